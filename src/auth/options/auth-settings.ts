import { availableParallelism } from 'node:os';
import type { AuthModuleOptions, JwtAlgorithm } from '../auth.options.js';
import { RATE_LIMITS, type RateLimitPolicy } from '../guards/rate-limit.policies.js';
import { loadSigningKeys, type SigningKeys } from '../tokens/signing-keys.js';
import type { StoredUser } from '../users/user-store.js';
import { ConfigurationError } from './configuration-error.js';
import { parseDurationSeconds } from './duration.js';

/** Token lifetimes and JWT parameters, in seconds where they are durations. */
export interface TokenSettings {
  accessTokenTtl: number;
  refreshTokenTtl: number;
  refreshIdleTtl: number;
  refreshReuseGrace: number;
  algorithm: JwtAlgorithm;
  issuer: string;
  audience: string;
  clockSkew: number;
}

export interface PasswordHashingSettings {
  concurrency: number;
  queue: number;
}

/** Password hashing leaves one core to the event loop (and everything else), where there is more than one. */
export function defaultPasswordHashing(): PasswordHashingSettings {
  return { concurrency: Math.max(1, availableParallelism() - 1), queue: 32 };
}

/**
 * The module's options checked and turned into what each part needs: the one place that does so.
 * Every provider of the module reads its slice of this, never the raw options.
 */
export class AuthSettings {
  readonly tokens: TokenSettings;
  readonly signingKeys: SigningKeys;
  readonly refreshTokenSecret: string;
  readonly cookieSecure: boolean;
  readonly allowedOrigins: readonly string[];
  readonly rateLimit: { enabled: boolean; policies: Record<keyof typeof RATE_LIMITS, RateLimitPolicy> };
  readonly sessionsPerUserMax: number;
  /** Seconds. */
  readonly revocationMaxStaleness: number;
  /** Seconds an ended session's row is kept before the clean-up deletes it (a revoked one at least accessTokenTtl + clockSkew). */
  readonly sessionRetention: number;
  /** Seconds between clean-up rounds. */
  readonly cleanupInterval: number;
  /** Seconds security events are kept. */
  readonly auditRetention: number;
  /** Verified access tokens the guard remembers; 0: none. */
  readonly accessTokenCacheSize: number;
  /** Password hashes and checks at once, and how many more may wait before 503. */
  readonly passwordHashing: PasswordHashingSettings;
  readonly extraClaims: ((user: StoredUser) => Record<string, unknown> | Promise<Record<string, unknown>>) | undefined;

  constructor(values: AuthSettings) {
    Object.assign(this, values);
  }
}

/** How problems name a setting: by its option key, or by the variable `authOptionsFromEnv` read it from. */
export interface SettingsCheck {
  names: 'options' | 'env';
  /** Demand the signing keys and the refresh-token secret (the module always does). */
  requireSecrets: boolean;
}

const VARIABLE: Record<keyof AuthModuleOptions, string> = {
  accessTokenTtl: 'ACCESS_TOKEN_TTL',
  refreshTokenTtl: 'REFRESH_TOKEN_TTL',
  refreshIdleTtl: 'REFRESH_IDLE_TTL',
  refreshReuseGrace: 'REFRESH_REUSE_GRACE',
  jwtAlgorithm: 'JWT_ALGORITHM',
  jwtPrivateKeys: 'JWT_PRIVATE_KEYS',
  jwtSecret: 'JWT_SECRET',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwtClockSkew: 'JWT_CLOCK_SKEW',
  refreshTokenSecret: 'REFRESH_TOKEN_SECRET',
  cookieSecure: 'COOKIE_SECURE',
  allowedOrigins: 'CORS_ORIGINS',
  rateLimit: 'RATE_LIMIT',
  sessionsPerUserMax: 'SESSIONS_PER_USER_MAX',
  revocationMaxStaleness: 'REVOCATION_MAX_STALENESS',
  sessionRetention: 'SESSION_RETENTION',
  cleanupInterval: 'CLEANUP_INTERVAL',
  auditRetention: 'AUDIT_RETENTION',
  accessTokenCacheSize: 'ACCESS_TOKEN_CACHE_SIZE',
  passwordHashConcurrency: 'PASSWORD_HASH_CONCURRENCY',
  passwordHashQueue: 'PASSWORD_HASH_QUEUE',
  extraClaims: 'extraClaims',
};

const ALGORITHMS: readonly JwtAlgorithm[] = ['ES256', 'RS256', 'HS256'];
const MAX_CLOCK_SKEW = 30;
const MIN_SECRET_BYTES = 32;
const DEFAULT_ACCESS_TOKEN_CACHE_SIZE = 10_000;
// Beyond these a value is a typo more likely than a plan (a million cached tokens is around a gigabyte).
const MAX_ACCESS_TOKEN_CACHE_SIZE = 1_000_000;
const MAX_PASSWORD_HASH_CONCURRENCY = 1024;
const MAX_PASSWORD_HASH_QUEUE = 100_000;
// Claims the package sets or that RFC 7519 and RFC 9068 reserve, and the principal's own fields.
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'roles', 'typ', 'cnf', 'client_id', 'scope']);
const PRINCIPAL_FIELDS = new Set(['userId', 'sessionId', 'issuedAt', 'expiresAt']);

/** The module's settings; throws one ConfigurationError listing every problem, each named by its option key. */
export function resolveAuthSettings(options: AuthModuleOptions): AuthSettings {
  const { signingKeys, ...settings } = checkAuthOptions(options, { names: 'options', requireSecrets: true });
  // Demanded above: checkAuthOptions throws when the keys are missing.
  return new AuthSettings({ ...settings, signingKeys: signingKeys! });
}

/** Checks the options (and imports their keys, when given); throws one ConfigurationError listing every problem. */
export function checkAuthOptions(options: AuthModuleOptions, check: SettingsCheck) {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError(['the auth module options must be an object']);
  const problems: string[] = [];
  const name = (key: keyof AuthModuleOptions) => (check.names === 'env' ? VARIABLE[key] : key);
  const seconds = (key: keyof AuthModuleOptions, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = options[key];
    if (value === undefined) return fallback;
    const parsed = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? value : undefined) : typeof value === 'string' ? parseDurationSeconds(value) : undefined;
    if (parsed === undefined) problems.push(`${name(key)} must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)`);
    else if (parsed < min) problems.push(`${name(key)} must be at least ${min} second${min === 1 ? '' : 's'}`);
    else if (parsed > max) problems.push(`${name(key)} must be at most ${max}s`);
    return parsed ?? fallback;
  };
  const text = (key: 'jwtIssuer' | 'jwtAudience', fallback: string): string => {
    const value = options[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value.length === 0) problems.push(`${name(key)} must be a non-empty string`);
    return String(value);
  };

  const algorithm = options.jwtAlgorithm ?? 'ES256';
  if (!ALGORITHMS.includes(algorithm)) problems.push(`${name('jwtAlgorithm')} must be ES256, RS256 or HS256`);
  const tokens: TokenSettings = {
    accessTokenTtl: seconds('accessTokenTtl', 900, 1),
    refreshTokenTtl: seconds('refreshTokenTtl', 30 * 86400, 1),
    refreshIdleTtl: seconds('refreshIdleTtl', 7 * 86400, 1),
    refreshReuseGrace: seconds('refreshReuseGrace', 10, 0),
    algorithm,
    issuer: text('jwtIssuer', 'auth-service'),
    audience: text('jwtAudience', 'api'),
    clockSkew: seconds('jwtClockSkew', 5, 0, MAX_CLOCK_SKEW),
  };
  const revocationMaxStaleness = seconds('revocationMaxStaleness', 5, 1);
  const sessionRetention = seconds('sessionRetention', 7 * 86400, 0);
  const cleanupInterval = seconds('cleanupInterval', 10 * 60, 1);
  const auditRetention = seconds('auditRetention', 90 * 86400, 1);

  const secret = (key: 'jwtSecret' | 'refreshTokenSecret', required: boolean): void => {
    const value = options[key];
    if (value === undefined) {
      if (required && check.requireSecrets) problems.push(`${name(key)} is required`);
    } else if (typeof value !== 'string' || Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      problems.push(`${name(key)} must be at least ${MIN_SECRET_BYTES} bytes`);
    }
  };
  secret('refreshTokenSecret', true);
  secret('jwtSecret', algorithm === 'HS256');
  if (algorithm !== 'HS256' && options.jwtPrivateKeys === undefined && check.requireSecrets) {
    problems.push(`${name('jwtPrivateKeys')} is required for ${algorithm} (a private JWK Set: {"keys": [...]})`);
  }

  const count = (key: 'accessTokenCacheSize' | 'passwordHashConcurrency' | 'passwordHashQueue', fallback: number, min: number, max: number): number => {
    const value = options[key] ?? fallback;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    problems.push(`${name(key)} must be a whole number from ${min} to ${max}`);
    return fallback;
  };
  const hashingDefaults = defaultPasswordHashing();
  const accessTokenCacheSize = count('accessTokenCacheSize', DEFAULT_ACCESS_TOKEN_CACHE_SIZE, 0, MAX_ACCESS_TOKEN_CACHE_SIZE);
  const passwordHashing: PasswordHashingSettings = {
    concurrency: count('passwordHashConcurrency', hashingDefaults.concurrency, 1, MAX_PASSWORD_HASH_CONCURRENCY),
    queue: count('passwordHashQueue', hashingDefaults.queue, 0, MAX_PASSWORD_HASH_QUEUE),
  };

  const sessionsPerUserMax = options.sessionsPerUserMax ?? 100;
  if (!Number.isSafeInteger(sessionsPerUserMax) || sessionsPerUserMax < 1) problems.push(`${name('sessionsPerUserMax')} must be a whole number of at least 1`);
  const allowedOrigins = options.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every((origin) => typeof origin === 'string')) {
    problems.push(`${name('allowedOrigins')} must be a list of origins`);
  }
  if (options.cookieSecure !== undefined && typeof options.cookieSecure !== 'boolean') problems.push(`${name('cookieSecure')} must be true or false`);
  if (options.extraClaims !== undefined && typeof options.extraClaims !== 'function') problems.push(`${name('extraClaims')} must be a function`);
  const rateLimit = rateLimitOf(options.rateLimit, name('rateLimit'), problems);
  if (problems.length) throw new ConfigurationError(problems);

  const keyMaterial = algorithm === 'HS256' ? options.jwtSecret : options.jwtPrivateKeys;
  // Absent only when secrets are not demanded yet (authOptionsFromEnv outside production).
  const signingKeys =
    keyMaterial === undefined ? undefined : loadSigningKeys(algorithm, keyMaterial, name(algorithm === 'HS256' ? 'jwtSecret' : 'jwtPrivateKeys'));
  return {
    tokens,
    signingKeys,
    refreshTokenSecret: options.refreshTokenSecret,
    cookieSecure: options.cookieSecure ?? true,
    allowedOrigins: Object.freeze([...allowedOrigins]),
    rateLimit,
    sessionsPerUserMax,
    revocationMaxStaleness,
    sessionRetention,
    cleanupInterval,
    auditRetention,
    accessTokenCacheSize,
    passwordHashing,
    extraClaims: options.extraClaims,
  };
}

/** The extra claims of a user, refused when one would shadow a claim or field of the package's own. */
export function checkExtraClaims(claims: unknown): Record<string, unknown> {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new TypeError('extraClaims must return an object');
  for (const key of Object.keys(claims)) {
    if (RESERVED_CLAIMS.has(key) || PRINCIPAL_FIELDS.has(key)) throw new TypeError(`extraClaims returned the reserved claim "${key}"`);
  }
  return claims as Record<string, unknown>;
}

function rateLimitOf(value: AuthModuleOptions['rateLimit'], label: string, problems: string[]): AuthSettings['rateLimit'] {
  if (value === undefined || typeof value === 'boolean') return { enabled: value ?? true, policies: RATE_LIMITS };
  const routes = Object.keys(RATE_LIMITS).join(', ');
  if (typeof value !== 'object' || value === null) {
    problems.push(`${label} must be true, false or an object of policies (${routes})`);
    return { enabled: true, policies: RATE_LIMITS };
  }
  // A replaced policy keeps its route's account key unless it names one: password counts per user.
  const policies: Record<string, RateLimitPolicy> = { ...RATE_LIMITS };
  for (const [route, policy] of Object.entries(value)) {
    if (!(route in RATE_LIMITS)) problems.push(`${label}.${route} is not a rate-limited route (${routes})`);
    else if (!isWindow(policy?.perClient) || (policy.perAccount !== undefined && !isWindow(policy.perAccount))) {
      problems.push(`${label}.${route} needs perClient (and optionally perAccount) as { max, windowMs } with whole numbers of at least 1`);
    } else if (policy.account !== undefined && policy.account !== 'email' && policy.account !== 'user') {
      problems.push(`${label}.${route}.account must be 'email' or 'user'`);
    } else {
      policies[route] = { account: (RATE_LIMITS[route as keyof typeof RATE_LIMITS] as RateLimitPolicy).account, ...policy };
    }
  }
  return { enabled: true, policies: policies as AuthSettings['rateLimit']['policies'] };
}

function isWindow(window: unknown): boolean {
  const { max, windowMs } = (window ?? {}) as { max?: unknown; windowMs?: unknown };
  return Number.isSafeInteger(max) && (max as number) >= 1 && Number.isSafeInteger(windowMs) && (windowMs as number) >= 1;
}
