import type { INestApplication } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Swagger UI's page loads its own scripts and styles only; the page and the UI itself style inline,
 * and its icons are data: URIs.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS = /^\/docs(?:[/?#]|$)/;

/**
 * `X-Content-Type-Options: nosniff` on every response, and the CSP on /docs. Registered before any
 * parser or route, so errors those answer carry them too.
 */
export function useSecurityHeaders(app: INestApplication): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    adapter.getInstance().addHook('onRequest', (request: { url: string }, reply: { header(name: string, value: string): void }, done: () => void) => {
      reply.header('X-Content-Type-Options', 'nosniff');
      if (DOCS.test(request.url)) reply.header('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
      done();
    });
    return;
  }
  app.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (DOCS.test(request.url ?? '')) response.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    next();
  });
}
