import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestDurationHistogram } from './request-duration-histogram.js';

/** The route label of a request no route matched (404s, and what a parser refused first on Express). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every response into `histogram`: one hook (Fastify) or middleware (Express) and one
 * observation per request. Registered before any parser, so what a parser refuses is counted too (not
 * what Fastify's router refuses before any hook, a malformed URL: answerFrameworkError).
 */
export function useHttpMetrics(app: INestApplication, histogram: RequestDurationHistogram): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    type Request = { method: string; routeOptions: { url?: string } };
    adapter.getInstance().addHook('onResponse', (request: Request, reply: { statusCode: number; elapsedTime: number }, done: () => void) => {
      histogram.observe(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    return;
  }
  type Request = IncomingMessage & { baseUrl?: string; route?: { path: string } };
  app.use((request: Request, response: ServerResponse, next: () => void) => {
    const start = performance.now();
    response.once('finish', () => {
      // Express knows the matched route only once it has dispatched the request.
      const route = request.route ? `${request.baseUrl ?? ''}${request.route.path}` : UNMATCHED_ROUTE;
      histogram.observe(request.method ?? '', route, response.statusCode, (performance.now() - start) / 1000);
    });
    next();
  });
}
