import { resolve } from 'node:path';
import { ConfigurationError } from './configuration-error.js';
import { parseDurationSeconds } from './duration.js';
import { validateEnvironment } from './environment.js';

export type JwtAlgorithm = 'ES256' | 'RS256' | 'HS256';

export interface HttpConfig {
  port: number;
  host: string;
  logLevel: string;
  corsOrigins: string[];
  trustProxy: boolean;
  cookieSecure: boolean;
  rateLimit: boolean;
  /** Worker processes (node:cluster) serving the same port. */
  webConcurrency: number;
}

export interface DatabaseConfig {
  /** undefined: run the embedded development server. */
  url: string | undefined;
  migrateOnStart: boolean;
  poolSize: number;
  embeddedPort: number;
}

export interface TokenConfig {
  accessTokenTtl: number;
  refreshTokenTtl: number;
  refreshIdleTtl: number;
  refreshReuseGrace: number;
  algorithm: JwtAlgorithm;
  /** Raw JWK Set JSON; undefined: a development key generated into dataDir. */
  privateKeys: string | undefined;
  /** HS256 key; undefined: generated into dataDir in development. */
  secret: string | undefined;
  issuer: string;
  audience: string;
  clockSkew: number;
  /** undefined: generated into dataDir in development. */
  refreshTokenSecret: string | undefined;
}

export interface RevocationConfig {
  /** Seconds the revocation feed may be down before the guard refuses to trust its memory (503). */
  maxStaleness: number;
}

/** Every setting of the service, typed, in seconds where it is a duration. */
export interface Configuration {
  production: boolean;
  /** Where development secrets and the embedded database live. */
  dataDir: string;
  http: HttpConfig;
  database: DatabaseConfig;
  tokens: TokenConfig;
  revocation: RevocationConfig;
}

const MAX_CLOCK_SKEW = 30;

/** Reads and validates the environment once; throws ConfigurationError naming every bad variable. */
export function loadConfiguration(raw: Record<string, string | undefined> = process.env): Configuration {
  const env = validateEnvironment(raw);
  const production = env.NODE_ENV === 'production';
  const problems: string[] = [];
  const seconds = (name: keyof typeof env, fallback: string): number =>
    parseDurationSeconds((env[name] as string | undefined) ?? fallback) ?? 0;

  const tokens: TokenConfig = {
    accessTokenTtl: seconds('ACCESS_TOKEN_TTL', '15m'),
    refreshTokenTtl: seconds('REFRESH_TOKEN_TTL', '30d'),
    refreshIdleTtl: seconds('REFRESH_IDLE_TTL', '7d'),
    refreshReuseGrace: seconds('REFRESH_REUSE_GRACE', '10s'),
    algorithm: (env.JWT_ALGORITHM as JwtAlgorithm | undefined) ?? 'ES256',
    privateKeys: env.JWT_PRIVATE_KEYS,
    secret: env.JWT_SECRET,
    issuer: env.JWT_ISSUER ?? 'auth-service',
    audience: env.JWT_AUDIENCE ?? 'api',
    clockSkew: seconds('JWT_CLOCK_SKEW', '5s'),
    refreshTokenSecret: env.REFRESH_TOKEN_SECRET,
  };
  const revocationMaxStaleness = seconds('REVOCATION_MAX_STALENESS', '5s');
  if (revocationMaxStaleness < 1) problems.push('REVOCATION_MAX_STALENESS must be at least 1 second');
  if (tokens.accessTokenTtl < 1) problems.push('ACCESS_TOKEN_TTL must be at least 1 second');
  if (tokens.refreshTokenTtl < 1) problems.push('REFRESH_TOKEN_TTL must be at least 1 second');
  if (tokens.refreshIdleTtl < 1) problems.push('REFRESH_IDLE_TTL must be at least 1 second');
  if (tokens.clockSkew > MAX_CLOCK_SKEW) problems.push(`JWT_CLOCK_SKEW must be at most ${MAX_CLOCK_SKEW}s`);
  if (production) {
    if (!env.DATABASE_URL) problems.push('DATABASE_URL is required when NODE_ENV=production (no embedded database)');
    if (!env.REFRESH_TOKEN_SECRET) problems.push('REFRESH_TOKEN_SECRET is required when NODE_ENV=production');
    if (tokens.algorithm === 'HS256' && !env.JWT_SECRET) problems.push('JWT_SECRET is required for HS256 when NODE_ENV=production');
    if (tokens.algorithm !== 'HS256' && !env.JWT_PRIVATE_KEYS) problems.push('JWT_PRIVATE_KEYS is required when NODE_ENV=production');
  }
  if (problems.length) throw new ConfigurationError(problems);

  return {
    production,
    dataDir: resolve(env.DATA_DIR ?? '.data'),
    http: {
      port: env.PORT ?? 3000,
      host: env.HOST ?? '0.0.0.0',
      logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
      corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
      trustProxy: env.TRUST_PROXY === 'true',
      cookieSecure: env.COOKIE_SECURE ? env.COOKIE_SECURE === 'true' : production,
      rateLimit: env.RATE_LIMIT !== 'off',
      webConcurrency: env.WEB_CONCURRENCY ?? 1,
    },
    database: {
      url: env.DATABASE_URL,
      migrateOnStart: env.DB_MIGRATE_ON_START !== 'false',
      poolSize: env.DB_POOL_SIZE ?? 20,
      embeddedPort: env.EMBEDDED_PG_PORT ?? 54329,
    },
    tokens,
    revocation: { maxStaleness: revocationMaxStaleness },
  };
}
