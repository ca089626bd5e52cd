import type { INestApplication } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';

/** The id of the request being handled, for the log lines written while it is (pino's mixin reads it). */
export const requestContext = new AsyncLocalStorage<string>();

/**
 * Runs each request's guards, pipes, handler and error filter inside its id. Entered after the body
 * is read: a body arrives through the socket's callbacks, which do not carry the context along.
 */
export function useRequestContext(app: INestApplication): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    adapter.getInstance().addHook('preHandler', (request: { id: string }, _reply: unknown, done: () => void) => requestContext.run(request.id, done));
    return;
  }
  app.use((request: IncomingMessage & { id: string }, _response: unknown, next: () => void) => requestContext.run(request.id, next));
}
