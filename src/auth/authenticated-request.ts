import type { FastifyRequest } from 'fastify';
import type { AuthPrincipal } from './tokens/access-token.js';

/** A request that passed the JwtAuthGuard. */
export interface AuthenticatedRequest extends FastifyRequest {
  user: AuthPrincipal;
}
