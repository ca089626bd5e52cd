import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched (404s, and what a parser refused first on Express). */
export const UNMATCHED_ROUTE = 'unmatched';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = 'method' | 'route' | 'status_code';

/** `http_request_duration_seconds`, labelled by the route's template (`/auth/sessions/:id`), never the raw URL. */
export function httpRequestDuration(registry: Registry): Histogram<Labels> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request to its response, by method, route template and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: BUCKETS,
    registers: [registry],
  });
}

/**
 * Times every response into `histogram`: one hook (Fastify) or middleware (Express) and one
 * observation per request. Registered before any parser, so what a parser refuses is counted too (not
 * what Fastify's router refuses before any hook, a malformed URL: answerFrameworkError).
 */
export function useHttpMetrics(app: INestApplication, histogram: Histogram<Labels>): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    type Request = { method: string; routeOptions: { url?: string } };
    adapter.getInstance().addHook('onResponse', (request: Request, reply: { statusCode: number; elapsedTime: number }, done: () => void) => {
      histogram.observe({ method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: reply.statusCode }, reply.elapsedTime / 1000);
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
      histogram.observe({ method: request.method ?? '', route, status_code: response.statusCode }, (performance.now() - start) / 1000);
    });
    next();
  });
}
