import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chooseRequestId, REQUEST_ID_HEADER } from './request-id.js';
import { DOCS_CONTENT_SECURITY_POLICY, isDocsUrl } from './security-headers.js';

/**
 * What every response carries: `X-Request-Id`, `X-Content-Type-Options: nosniff`, and the CSP on
 * /docs. One hook (Fastify) or middleware (Express), registered before any parser or route, so what
 * those refuse carries them too. On Fastify the id is the adapter's own (`genReqId: chooseRequestId`);
 * on Express it is set here as `req.id`, where the auth package reads it for its events.
 */
export function useResponseHeaders(app: INestApplication): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    type Reply = { header(name: string, value: string): void };
    adapter.getInstance().addHook('onRequest', (request: { id: string; url: string }, reply: Reply, done: () => void) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      reply.header('X-Content-Type-Options', 'nosniff');
      if (isDocsUrl(request.url)) reply.header('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
      done();
    });
    return;
  }
  app.use((request: IncomingMessage & { id?: string }, response: ServerResponse, next: () => void) => {
    request.id = chooseRequestId(request);
    response.setHeader(REQUEST_ID_HEADER, request.id);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (isDocsUrl(request.url ?? '')) response.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    next();
  });
}
