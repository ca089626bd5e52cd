import type { Type } from '@nestjs/common';
import type { RateLimitPolicy } from './guards/rate-limit.policies.js';
import type { RateLimitStorage } from './guards/rate-limit.storage.js';
import { validateAuthEnvironment } from './options/auth-environment.js';
import { checkAuthOptions } from './options/auth-settings.js';
import { ConfigurationError } from './options/configuration-error.js';
import type { PasswordHasher } from './passwords/password-hasher.js';
import type { StoredUser, UserStore } from './users/user-store.js';

/** Seconds (`900`), or a number with a unit: `'900'`, `'15m'`, `'12h'`, `'30d'`. */
export type Duration = number | string;

/** `ES256` (default), `RS256`, or `HS256` with `jwtSecret`. */
export type JwtAlgorithm = 'ES256' | 'RS256' | 'HS256';

/** The policies of the credential routes, each replaceable. */
export interface RateLimitOptions {
  login?: RateLimitPolicy;
  register?: RateLimitPolicy;
  refresh?: RateLimitPolicy;
  password?: RateLimitPolicy;
}

/**
 * Every auth setting, validated at start-up (a bad value stops the app with a message naming it).
 * Each mirrors a variable of the HTTP contract, named in brackets; `authOptionsFromEnv()` maps them.
 */
export interface AuthModuleOptions {
  /** Access-token lifetime (`ACCESS_TOKEN_TTL`). Default `15m`. */
  accessTokenTtl?: Duration;
  /** Absolute session lifetime from login; rotation never extends it (`REFRESH_TOKEN_TTL`). Default `30d`. */
  refreshTokenTtl?: Duration;
  /** A session unused this long is dead (`REFRESH_IDLE_TTL`). Default `7d`. */
  refreshIdleTtl?: Duration;
  /** How long after its rotation a token may come back without counting as reuse; `0` is strict (`REFRESH_REUSE_GRACE`). Default `10s`. */
  refreshReuseGrace?: Duration;
  /** Signing algorithm; only it is accepted when verifying (`JWT_ALGORITHM`). Default `ES256`. */
  jwtAlgorithm?: JwtAlgorithm;
  /** Private JWK Set (JSON text or object), each key with a `kid`: the first signs, all verify (`JWT_PRIVATE_KEYS`). Required for ES256 and RS256. */
  jwtPrivateKeys?: string | { keys: object[] };
  /** The HS256 key, at least 32 bytes (`JWT_SECRET`). Required for HS256. */
  jwtSecret?: string;
  /** `iss` put in and demanded (`JWT_ISSUER`). Default `auth-service`. */
  jwtIssuer?: string;
  /** `aud` put in and demanded (`JWT_AUDIENCE`). Default `api`. */
  jwtAudience?: string;
  /** Tolerance on `exp`, `nbf`, `iat`, at most 30 s (`JWT_CLOCK_SKEW`). Default `5s`. */
  jwtClockSkew?: Duration;
  /** Server secret refresh tokens are bound to, at least 32 bytes (`REFRESH_TOKEN_SECRET`). Required. */
  refreshTokenSecret: string;
  /** `Secure` and the `__Secure-` name prefix on the refresh cookie (`COOKIE_SECURE`). Default `true`. */
  cookieSecure?: boolean;
  /** Origins (besides the request's own host) a cookie-only refresh may come from (`CORS_ORIGINS`). Default none. */
  allowedOrigins?: string[];
  /** `false` turns the limits off (`RATE_LIMIT=off`); an object replaces some policies. Default on. */
  rateLimit?: boolean | RateLimitOptions;
  /** Live sessions a user may hold; a login past it ends the least recently used (`SESSIONS_PER_USER_MAX`). Default `100`. */
  sessionsPerUserMax?: number;
  /** How long the revocation feed may be down before Bearer requests get 503 (`REVOCATION_MAX_STALENESS`). Default `5s`. */
  revocationMaxStaleness?: Duration;
  /**
   * How long rows of ended (revoked, expired or idle) sessions are kept before the clean-up deletes them
   * (`SESSION_RETENTION`); a revoked row is kept at least one access-token lifetime plus clock skew. Default `7d`.
   */
  sessionRetention?: Duration;
  /** How often the batched clean-up runs, one instance at a time; at least 1 s (`CLEANUP_INTERVAL`). Default `10m`. */
  cleanupInterval?: Duration;
  /** How long security events are kept in `auth_events` (`AUDIT_RETENTION`). Default `90d`. */
  auditRetention?: Duration;
  /**
   * How many verified access tokens the guard remembers (by their exact text, until their `exp` plus
   * clock skew), so a token seen again skips the signature check; revocation, expiry and roles are
   * still checked on every request. `0` turns it off (`ACCESS_TOKEN_CACHE_SIZE`). Default `10000`.
   */
  accessTokenCacheSize?: number;
  /**
   * Password hashes and checks (login, register, password change) run at once, at most; keep it below
   * the core count so requests that need no hashing keep a core (`PASSWORD_HASH_CONCURRENCY`).
   * Default: the cores less one, at least 1.
   */
  passwordHashConcurrency?: number;
  /**
   * How many more may wait for one of those; past that, `503 service_unavailable` with `Retry-After: 1`
   * (`PASSWORD_HASH_QUEUE`). Default `32`.
   */
  passwordHashQueue?: number;
  /**
   * Claims added to every access token at the top level, and so onto the principal. Registered and
   * reserved claim names (`sub`, `sid`, `roles`, `exp`, …) are refused.
   */
  extraClaims?: (user: StoredUser) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** Which of the package's controllers to mount; login, refresh, logout, claims and JWKS always are. */
export interface AuthRoutesOptions {
  /** `POST /auth/register`. Default `true`. */
  register?: boolean;
  /** `GET /auth/sessions`, `DELETE /auth/sessions/:id`. Default `true`. */
  sessions?: boolean;
  /** `GET /users/me`. Default `true`. */
  users?: boolean;
  /**
   * `/admin/...`: managing users (list, roles, disable, enable) and their sessions, for the `admin`
   * role. Needs a UserStore with `list`, `setRoles` and `setDisabled`. Default: on when the store has
   * them (the package's own does), else off with a log line; `true` with a store lacking one fails the
   * start-up naming it.
   */
  admin?: boolean;
}

/** Set beside `useFactory` (or the options of `forRoot`): they shape the module, not its settings. */
export interface AuthModuleExtras {
  /** Where users live. Default: the package's own `auth_users` table. */
  userStore?: Type<UserStore>;
  /** How passwords are hashed. Default: argon2id. */
  passwordHasher?: Type<PasswordHasher>;
  /** `true` (default): every route needs a Bearer token unless `@Public()`. `false`: apply `JwtAuthGuard` yourself. */
  globalGuard?: boolean;
  /** Which optional controllers to mount. */
  routes?: AuthRoutesOptions;
  /** Where rate-limit counters live. Default: in memory, per process. */
  rateLimitStorage?: Type<RateLimitStorage>;
}

/**
 * The options of the HTTP contract's variables: `ACCESS_TOKEN_TTL`, `JWT_*`, `REFRESH_*`,
 * `COOKIE_SECURE` (default on when `NODE_ENV=production`), `CORS_ORIGINS`, `RATE_LIMIT`,
 * `SESSIONS_PER_USER_MAX`, `REVOCATION_MAX_STALENESS`, `SESSION_RETENTION`, `CLEANUP_INTERVAL`,
 * `AUDIT_RETENTION`, `ACCESS_TOKEN_CACHE_SIZE`, `PASSWORD_HASH_CONCURRENCY`, `PASSWORD_HASH_QUEUE`.
 * Throws a `ConfigurationError` naming every bad variable. Reads nothing else and writes nothing.
 */
export function authOptionsFromEnv(env: Record<string, string | undefined> = process.env): AuthModuleOptions {
  const { env: vars, problems } = validateAuthEnvironment(env);
  const options: AuthModuleOptions = {
    accessTokenTtl: vars.ACCESS_TOKEN_TTL,
    refreshTokenTtl: vars.REFRESH_TOKEN_TTL,
    refreshIdleTtl: vars.REFRESH_IDLE_TTL,
    refreshReuseGrace: vars.REFRESH_REUSE_GRACE,
    jwtAlgorithm: vars.JWT_ALGORITHM as JwtAlgorithm | undefined,
    jwtPrivateKeys: vars.JWT_PRIVATE_KEYS,
    jwtSecret: vars.JWT_SECRET,
    jwtIssuer: vars.JWT_ISSUER,
    jwtAudience: vars.JWT_AUDIENCE,
    jwtClockSkew: vars.JWT_CLOCK_SKEW,
    refreshTokenSecret: vars.REFRESH_TOKEN_SECRET as string,
    cookieSecure: vars.COOKIE_SECURE === undefined ? vars.NODE_ENV === 'production' : vars.COOKIE_SECURE === 'true',
    allowedOrigins: (vars.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
    rateLimit: vars.RATE_LIMIT !== 'off',
    sessionsPerUserMax: vars.SESSIONS_PER_USER_MAX,
    revocationMaxStaleness: vars.REVOCATION_MAX_STALENESS,
    sessionRetention: vars.SESSION_RETENTION,
    cleanupInterval: vars.CLEANUP_INTERVAL,
    auditRetention: vars.AUDIT_RETENTION,
    accessTokenCacheSize: vars.ACCESS_TOKEN_CACHE_SIZE,
    passwordHashConcurrency: vars.PASSWORD_HASH_CONCURRENCY,
    passwordHashQueue: vars.PASSWORD_HASH_QUEUE,
  };
  for (const key of Object.keys(options) as (keyof AuthModuleOptions)[]) if (options[key] === undefined) delete options[key];
  // The rules between values (lifetimes, keys), named by their variables. Outside production the
  // secrets may be missing here: a development host fills them in, and the module demands them.
  try {
    checkAuthOptions(options, { names: 'env', requireSecrets: env.NODE_ENV === 'production' });
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length) throw new ConfigurationError(problems);
  return options;
}
