/** The public surface of the auth module: what other modules and teams import. */

/** Login, refresh-token rotation, revocation and the global Bearer guard. */
export { AuthModule } from './auth.module.js';
/** Opens a route to callers without an access token. */
export { Public } from './decorators/public.decorator.js';
/** Limits a route to callers with one of the given roles. */
export { Roles } from './decorators/roles.decorator.js';
/** Limits a route per client address and per account; the policies of the credential routes. */
export { RateLimit } from './decorators/rate-limit.decorator.js';
export { RATE_LIMITS, type RateLimitPolicy } from './guards/rate-limit.policies.js';
export { RateLimitGuard } from './guards/rate-limit.guard.js';
/** Documents a route as Bearer-protected in OpenAPI. */
export { Authenticated } from './decorators/authenticated.decorator.js';
/** Documents the error codes a route answers with. */
export { ApiErrors } from './decorators/api-errors.decorator.js';
/** The verified caller of a Bearer-authenticated route. */
export { CurrentPrincipal } from './decorators/auth-principal.decorator.js';
/** The global guard; extend it and override `isPublic` or `handleRequest`. */
export { JwtAuthGuard } from './guards/jwt-auth.guard.js';
/** Enforces `@Roles()`. */
export { RolesGuard } from './guards/roles.guard.js';
/** A refusal with a stable code, and the codes. */
export { AuthError } from './errors/auth-error.js';
export { AuthErrorCode } from './errors/auth-error-code.js';
/** Maps every error to `{statusCode, error, message, code}`. */
export { AuthExceptionFilter } from './errors/auth-exception.filter.js';
/** Ports: bind your own implementation to replace one. */
export { PasswordHasher } from './passwords/password-hasher.js';
export { SessionStore } from './sessions/session-store.js';
export { UserStore } from '../users/user-store.js';
/** Issues and screens access tokens. */
export { AccessTokenService } from './tokens/access-token.service.js';
export type { AuthPrincipal, AccessTokenClaims } from './tokens/access-token.js';
export type { AuthenticatedRequest } from './authenticated-request.js';
