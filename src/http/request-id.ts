import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// What a caller (or the proxy in front) may choose as the id: short, and safe in logs and headers.
const WELL_FORMED = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's own id when it is well-formed, else a fresh one. */
export function chooseRequestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}

/**
 * Echoes the request's id as `X-Request-Id` on every response. On Fastify the id is the adapter's
 * own (`genReqId: chooseRequestId`); on Express it is set here as `req.id`, where the auth package reads
 * it for its events. Registered before any parser, so what a parser refuses carries it too.
 */
export function useRequestIds(app: INestApplication): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    adapter.getInstance().addHook('onRequest', (request: { id: string }, reply: { header(name: string, value: string): void }, done: () => void) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    return;
  }
  app.use((request: IncomingMessage & { id?: string }, response: ServerResponse, next: () => void) => {
    request.id = chooseRequestId(request);
    response.setHeader(REQUEST_ID_HEADER, request.id);
    next();
  });
}
