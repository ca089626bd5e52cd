import { resolve } from 'node:path';
import { type AuthModuleOptions, authOptionsFromEnv, ConfigurationError } from '../auth/index.js';
import { validateEnvironment } from './environment.js';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';

export type HttpAdapterName = 'fastify' | 'express';

export interface HttpConfig {
  port: number;
  host: string;
  logLevel: string;
  /** Origins allowed to call with credentials (CORS); the auth module gets the same list for its cookie check. */
  corsOrigins: string[];
  /** Which proxies are believed about the client address (TRUST_PROXY). */
  trustProxy: TrustProxy;
  adapter: HttpAdapterName;
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

/** Every setting of the service: its own, and the auth module's options as `authOptionsFromEnv()` reads them. */
export interface Configuration {
  production: boolean;
  /** Where development secrets and the embedded database live. */
  dataDir: string;
  http: HttpConfig;
  database: DatabaseConfig;
  /** Where rate-limit counters are shared (REDIS_URL); undefined: in each process's memory. */
  redisUrl: string | undefined;
  /** GET /metrics and the per-request histogram behind it (METRICS). */
  metrics: boolean;
  auth: AuthModuleOptions;
}

/** Reads and validates the environment once; throws ConfigurationError naming every bad variable. */
export function loadConfiguration(raw: Record<string, string | undefined> = process.env): Configuration {
  const problems: string[] = [];
  const env = collect(problems, () => validateEnvironment(raw));
  const auth = collect(problems, () => authOptionsFromEnv(raw));
  const trustProxy = collect(problems, () => parseTrustProxy(raw.TRUST_PROXY));
  const production = raw.NODE_ENV === 'production';
  if (production && !raw.DATABASE_URL) problems.push('DATABASE_URL is required when NODE_ENV=production (no embedded database)');
  if (problems.length || !env || !auth || !trustProxy) throw new ConfigurationError(problems);

  return {
    production,
    dataDir: resolve(env.DATA_DIR ?? '.data'),
    http: {
      port: env.PORT ?? 3000,
      host: env.HOST ?? '0.0.0.0',
      logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
      corsOrigins: auth.allowedOrigins ?? [],
      trustProxy,
      adapter: (env.HTTP_ADAPTER as HttpAdapterName | undefined) ?? 'fastify',
      webConcurrency: env.WEB_CONCURRENCY ?? 1,
    },
    database: {
      url: env.DATABASE_URL,
      migrateOnStart: env.DB_MIGRATE_ON_START !== 'false',
      poolSize: env.DB_POOL_SIZE ?? 20,
      embeddedPort: env.EMBEDDED_PG_PORT ?? 54329,
    },
    redisUrl: env.REDIS_URL,
    metrics: env.METRICS !== 'off',
    auth,
  };
}

// Both halves are checked before failing, so one message names every bad variable.
function collect<T>(problems: string[], read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
