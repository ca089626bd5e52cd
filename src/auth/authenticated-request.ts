import type { IncomingHttpHeaders } from 'node:http';
import type { AuthPrincipal } from './tokens/access-token.js';

/** What the package reads of a request, on Express and Fastify alike. */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  /** The client address as the platform resolved it (its trust-proxy setting applies). */
  ip?: string;
  /**
   * The request's id, as the host set it: Fastify's `request.id` (its `genReqId`), or on Express a
   * middleware's `req.id`. It goes into the request's security events.
   */
  id?: unknown;
  body?: unknown;
}

/** A request that passed the JwtAuthGuard. */
export interface AuthenticatedRequest extends AuthRequest {
  user: AuthPrincipal;
}
