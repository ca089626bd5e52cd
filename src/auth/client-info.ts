import type { AuthRequest } from './authenticated-request.js';
import type { ClientInfo } from './sessions/sessions.service.js';

/** What a session and the request's events record about the client, cut to the columns' sizes. */
export function clientInfoOf(request: AuthRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return {
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    ip: request.ip ? request.ip.slice(0, 64) : null,
    requestId: requestIdOf(request),
  };
}

/** The request's id as the host set it (Fastify's `request.id`, a middleware's `req.id` on Express). */
export function requestIdOf(request: AuthRequest): string | null {
  return typeof request.id === 'string' ? request.id : null;
}
