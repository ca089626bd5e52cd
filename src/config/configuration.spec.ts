import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../auth/options/configuration-error.js';
import { resolveAuthSettings } from '../auth/options/auth-settings.js';
import { generatePrivateJwk } from '../auth/tokens/signing-keys.js';
import { loadConfiguration } from './configuration.js';
import { withDevelopmentSecrets } from './development-secret.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/auth',
  REFRESH_TOKEN_SECRET: 'x'.repeat(32),
  JWT_PRIVATE_KEYS: JSON.stringify({ keys: [generatePrivateJwk('ES256')] }),
};

describe('loadConfiguration', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfiguration(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as ConfigurationError).problems;
    }
    throw new Error('expected a ConfigurationError');
  };

  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'configuration-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('serves with no variables set, on the contract defaults', () => {
    const configuration = loadConfiguration({});
    expect(configuration.production).toBe(false);
    expect(configuration.dataDir).toBe(path.resolve('.data'));
    expect(configuration.http).toEqual({
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      corsOrigins: [],
      trustProxy: expect.any(Function),
      adapter: 'fastify',
      webConcurrency: 1,
    });
    expect(configuration.database).toMatchObject({ url: undefined, migrateOnStart: true });
    // Only what the variables say: the module's own defaults fill in the rest.
    expect(configuration.auth).toEqual({ cookieSecure: false, allowedOrigins: [], rateLimit: true });
  });

  it('resolves to the contract defaults once the development secrets are filled in', () => {
    const settings = resolveAuthSettings(withDevelopmentSecrets(loadConfiguration({ DATA_DIR: dataDir })));
    expect(settings.tokens).toEqual({
      accessTokenTtl: 900,
      refreshTokenTtl: 2592000,
      refreshIdleTtl: 604800,
      refreshReuseGrace: 10,
      algorithm: 'ES256',
      issuer: 'auth-service',
      audience: 'api',
      clockSkew: 5,
    });
    expect(settings.cookieSecure).toBe(false);
    expect(settings.rateLimit.enabled).toBe(true);
    expect(settings.allowedOrigins).toEqual([]);
  });

  it('reads durations with units and lists', () => {
    const configuration = loadConfiguration({
      DATA_DIR: dataDir,
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_REUSE_GRACE: '0',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      RATE_LIMIT: 'off',
    });
    expect(configuration.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(configuration.auth).toMatchObject({ accessTokenTtl: '5m', refreshReuseGrace: '0', allowedOrigins: ['https://a.example', 'https://b.example'], rateLimit: false });
    const settings = resolveAuthSettings(withDevelopmentSecrets(configuration));
    expect(settings.tokens.accessTokenTtl).toBe(300);
    expect(settings.tokens.refreshReuseGrace).toBe(0);
    expect(settings.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(settings.rateLimit.enabled).toBe(false);
  });

  it("reads the service's own variables", () => {
    const configuration = loadConfiguration({
      NODE_ENV: 'test',
      PORT: '8080',
      HOST: '127.0.0.1',
      TRUST_PROXY: '2',
      HTTP_ADAPTER: 'express',
      WEB_CONCURRENCY: '4',
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://db/auth_test',
      DB_MIGRATE_ON_START: 'false',
      DB_POOL_SIZE: '5',
      METRICS: 'off',
    });
    expect(configuration.dataDir).toBe(dataDir);
    expect(configuration.metrics).toBe(false);
    expect(loadConfiguration({ DATA_DIR: dataDir }).metrics).toBe(true);
    expect(configuration.http).toEqual({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'silent',
      corsOrigins: [],
      trustProxy: expect.any(Function),
      adapter: 'express',
      webConcurrency: 4,
    });
    expect(configuration.database).toMatchObject({ url: 'postgres://db/auth_test', migrateOnStart: false, poolSize: 5 });
  });

  it('trusts no proxy by default, N proxies from the right for TRUST_PROXY=N, or the listed addresses', () => {
    const trusts = (value: string | undefined, address: string, hop: number) =>
      loadConfiguration(value === undefined ? {} : { TRUST_PROXY: value }).http.trustProxy(address, hop);
    expect(trusts(undefined, '127.0.0.1', 0)).toBe(false);
    expect(trusts('0', '127.0.0.1', 0)).toBe(false);
    expect([0, 1, 2].map((hop) => trusts('2', '203.0.113.1', hop))).toEqual([true, true, false]);
    const list = '10.0.0.0/8, 192.0.2.7';
    expect([trusts(list, '10.1.2.3', 0), trusts(list, '192.0.2.7', 3), trusts(list, '192.0.2.8', 0)]).toEqual([true, true, false]);
    expect(trusts('loopback', '::1', 0)).toBe(true);
  });

  it('refuses a TRUST_PROXY that is neither a count nor a list of addresses, trusting everything included', () => {
    for (const value of ['true', 'false', '-1', '1.5', '10.0.0.0/33', 'proxy.example', '10.0.0.1,']) {
      expect(problemsOf({ TRUST_PROXY: value }).join()).toMatch(/TRUST_PROXY must be a number of proxies/);
    }
  });

  it('names every bad variable, of the service and of the auth module together, and no value', () => {
    const problems = problemsOf({ ACCESS_TOKEN_TTL: 'soon', PORT: '70000', JWT_SECRET: 'short-secret-value', JWT_ALGORITHM: 'none', HTTP_ADAPTER: 'koa', METRICS: 'yes' });
    expect(problems.join('\n')).toMatch(/ACCESS_TOKEN_TTL/);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/HTTP_ADAPTER/);
    expect(problems.join('\n')).toMatch(/METRICS/);
    expect(problems.join('\n')).toMatch(/JWT_SECRET/);
    expect(problems.join('\n')).toMatch(/JWT_ALGORITHM/);
    expect(problems.join('\n')).not.toMatch(/short-secret-value/);
  });

  it('refuses more than 30 s of clock skew and a zero access-token lifetime', () => {
    expect(problemsOf({ JWT_CLOCK_SKEW: '31s' }).join()).toMatch(/JWT_CLOCK_SKEW/);
    expect(problemsOf({ ACCESS_TOKEN_TTL: '0' }).join()).toMatch(/ACCESS_TOKEN_TTL/);
  });

  it('refuses a JWT_PRIVATE_KEYS that is not a key set at load, named by the variable', () => {
    expect(problemsOf({ JWT_PRIVATE_KEYS: '{"keys":[]}' }).join()).toMatch(/JWT_PRIVATE_KEYS must be a JWK Set/);
  });

  it('demands real secrets and a real database in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' }).join('\n');
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/REFRESH_TOKEN_SECRET/);
    expect(problems).toMatch(/JWT_PRIVATE_KEYS/);
    expect(problemsOf({ NODE_ENV: 'production', JWT_ALGORITHM: 'HS256' }).join()).toMatch(/JWT_SECRET/);
  });

  it('takes the secrets from the variables in production', () => {
    const configuration = loadConfiguration(PRODUCTION);
    expect(configuration.production).toBe(true);
    expect(configuration.database.url).toBe(PRODUCTION.DATABASE_URL);
    expect(configuration.auth).toMatchObject({ refreshTokenSecret: PRODUCTION.REFRESH_TOKEN_SECRET, jwtPrivateKeys: PRODUCTION.JWT_PRIVATE_KEYS });
  });

  it('makes the cookie Secure by default in production', () => {
    expect(loadConfiguration(PRODUCTION).auth.cookieSecure).toBe(true);
    expect(loadConfiguration({ ...PRODUCTION, COOKIE_SECURE: 'false' }).auth.cookieSecure).toBe(false);
    expect(loadConfiguration({ COOKIE_SECURE: 'true' }).auth.cookieSecure).toBe(true);
  });

  it('takes a redis:// or rediss:// REDIS_URL, and nothing else', () => {
    expect(loadConfiguration({}).redisUrl).toBeUndefined();
    expect(loadConfiguration({ REDIS_URL: 'rediss://:secret@cache.internal:6380/2' }).redisUrl).toBe('rediss://:secret@cache.internal:6380/2');
    for (const value of ['cache.internal:6379', 'http://cache.internal', 'redis://', 'redis:// cache']) {
      expect(problemsOf({ REDIS_URL: value })).toEqual(['REDIS_URL must be a redis:// or rediss:// URL']);
    }
  });
});
