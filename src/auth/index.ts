/** The public surface of the auth package: everything a host application imports. */

/** The module: `AuthModule.forRoot(options)` / `AuthModule.forRootAsync({ useFactory, inject, imports })`. */
export { AuthModule } from './auth.module.js';
/** Its options, its extras, and the mapping from the HTTP contract's variables. */
export {
  authOptionsFromEnv,
  type AuthModuleExtras,
  type AuthModuleOptions,
  type AuthRoutesOptions,
  type Duration,
  type JwtAlgorithm,
  type RateLimitOptions,
} from './auth.options.js';
/** Thrown at start-up for invalid options or variables; the message names each one. */
export { ConfigurationError } from './options/configuration-error.js';
/** The migrations of the package's tables (`auth_users`, `auth_sessions`, `auth_events`): add them to your DataSource. */
export { authMigrations } from '../../migrations/index.js';

/** Opens a route to callers without an access token. */
export { Public } from './decorators/public.decorator.js';
/** Demands a Bearer access token (whatever `globalGuard` says) and documents it. */
export { Authenticated } from './decorators/authenticated.decorator.js';
/** Limits a route to callers with one of the given roles (implies `@Authenticated()`). */
export { Roles } from './decorators/roles.decorator.js';
/** The verified caller: `@CurrentPrincipal() principal: AuthPrincipal<{ tenantId: string }>`. */
export { CurrentPrincipal } from './decorators/auth-principal.decorator.js';
/** Limits a route per client address and per account. */
export { RateLimit } from './decorators/rate-limit.decorator.js';
export { RATE_LIMITS, type RateLimitPolicy, type RateWindow } from './guards/rate-limit.policies.js';
/** Documents the error codes a route answers with, in the package's error shape. */
export { ApiErrors } from './decorators/api-errors.decorator.js';
/** The OpenAPI responses `@ApiErrors` writes, for codes a host's own HTTP layer answers (413, 415). */
export { errorResponses } from './errors/error-responses.js';
/** Adds the package's security schemes (Bearer, the refresh cookie by its real name) to an OpenAPI document. */
export { addAuthSecuritySchemes, BEARER_SECURITY, REFRESH_COOKIE_SECURITY } from './openapi.js';

/** The Bearer guard (global unless `globalGuard: false`); extend it and override `isPublic` or `handleRequest`. */
export { JwtAuthGuard } from './guards/jwt-auth.guard.js';
/** Enforces `@Roles()` after a guard of your own that sets `request.user`. */
export { RolesGuard } from './guards/roles.guard.js';
/** Enforces `@RateLimit()`; override `clientKey` or `accountKey`. */
export { RateLimitGuard } from './guards/rate-limit.guard.js';
/** Where rate-limit counters live (`rateLimitStorage` extra); the default counts in memory. */
export { MemoryRateLimitStorage, RateLimitStorage } from './guards/rate-limit.storage.js';
/** Counters shared through Redis (needs `ioredis`), falling back to memory while Redis is unreachable. */
export { RedisRateLimitStorage, type RedisRateLimitStorageOptions } from './guards/redis-rate-limit.storage.js';

/** A refusal with a stable code, and the codes. */
export { AuthError, type AuthErrorOptions } from './errors/auth-error.js';
export { AuthErrorCode } from './errors/auth-error-code.js';
/** Answers any error as `{statusCode, error, message, code}`; bind it globally to answer everything so. */
export { AuthExceptionFilter, answerClientError, answerFrameworkError, type ErrorBody } from './errors/auth-exception.filter.js';
/** The error body as documented in OpenAPI. */
export { ErrorDto } from './dto/error.dto.js';

/** Ports: pass an implementation as the `userStore` / `passwordHasher` extra. */
export { UserStore, type NewUser, type StoredUser, type UserListQuery } from './users/user-store.js';
export { PasswordHasher } from './passwords/password-hasher.js';
/** The default hasher (argon2id), to extend or to wrap. */
export { Argon2PasswordHasher } from './passwords/argon2-password-hasher.js';

/**
 * The security events (`AuthEventType`): each is logged as one JSON line at info, stored in `auth_events`
 * for `auditRetention`, and handed to in-process subscribers. Inject `AuthEvents` and
 * `subscribe(listener)` (returns the unsubscribe function) to act on them in your own module.
 */
export { AuthEvents, type AuthEventListener } from './events/auth-events.js';
export { AuthEventType, type AuthEvent, type AuthEventDetail, type AuthEventDetailValue, type NewAuthEvent } from './events/auth-event.js';
/**
 * The outcome of every login and refresh (`LoginOutcome`, `RefreshOutcome`), for your own metrics:
 * inject `AuthOutcomes` and `observe({ login, refresh })` (returns the function that stops it);
 * `revocationFeedConnected` says whether this process sees other instances' revocations right now.
 */
export { AuthOutcomes, LoginOutcome, RefreshOutcome, type AuthOutcomeObserver } from './events/auth-outcomes.js';

/**
 * The administration (`routes.admin`, on by default): the role it demands, the service behind its routes
 * (inject it to manage users from code; the command line creates the first administrator with it), and
 * what its routes answer.
 */
export { ADMIN_ROLE } from './auth.constants.js';
export { AdminService, type AdminActor, type UserPage } from './admin/admin.service.js';
export { AdminUserDto, UserPageDto } from './admin/admin-user.dto.js';
export { ListUsersQueryDto } from './admin/list-users-query.dto.js';
export { SetRolesDto } from './admin/set-roles.dto.js';
/** A session as `GET /admin/users/:id/sessions` lists it. */
export { SessionInfoDto } from './dto/session.dto.js';

/** Who made a request, and the request the guard authenticated. */
export type { AuthPrincipal, AuthPrincipalFields } from './tokens/access-token.js';
export type { AuthenticatedRequest, AuthRequest } from './authenticated-request.js';
/** A new private JWK for `jwtPrivateKeys` (ES256 or RS256). */
export { generatePrivateJwk } from './tokens/signing-keys.js';
