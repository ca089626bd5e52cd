import type { IncomingHttpHeaders } from 'node:http';
import type { AuthPrincipal } from './tokens/access-token.js';

/** What the package reads of a request, on Express and Fastify alike. */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  /** The client address as the platform resolved it (its trust-proxy setting applies). */
  ip?: string;
  body?: unknown;
}

/** A request that passed the JwtAuthGuard. */
export interface AuthenticatedRequest extends AuthRequest {
  user: AuthPrincipal;
}
