import { ConfigurationError } from './configuration-error.js';
import { loadConfiguration } from './configuration.js';
import { parseDurationSeconds } from './duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['900', 900],
    ['45s', 45],
    ['15m', 900],
    ['12h', 43200],
    ['30d', 2592000],
    [' 10s ', 10],
    ['0', 0],
  ])('%s is %d seconds', (value, seconds) => {
    expect(parseDurationSeconds(value)).toBe(seconds);
  });

  it.each(['', 'abc', '15 m', '1.5h', '-5', '10w', '15M'])('refuses %j', (value) => {
    expect(parseDurationSeconds(value)).toBeUndefined();
  });
});

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

  it('serves with no variables set, on the contract defaults', () => {
    const configuration = loadConfiguration({});
    expect(configuration.http).toMatchObject({ port: 3000, host: '0.0.0.0', cookieSecure: false, rateLimit: true, corsOrigins: [] });
    expect(configuration.database).toMatchObject({ url: undefined, migrateOnStart: true });
    expect(configuration.tokens).toMatchObject({
      accessTokenTtl: 900,
      refreshTokenTtl: 2592000,
      refreshIdleTtl: 604800,
      refreshReuseGrace: 10,
      algorithm: 'ES256',
      issuer: 'auth-service',
      audience: 'api',
      clockSkew: 5,
    });
  });

  it('reads durations with units and lists', () => {
    const configuration = loadConfiguration({
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_REUSE_GRACE: '0',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      RATE_LIMIT: 'off',
    });
    expect(configuration.tokens.accessTokenTtl).toBe(300);
    expect(configuration.tokens.refreshReuseGrace).toBe(0);
    expect(configuration.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(configuration.http.rateLimit).toBe(false);
  });

  it('names every bad variable, and no value', () => {
    const problems = problemsOf({ ACCESS_TOKEN_TTL: 'soon', PORT: '70000', JWT_SECRET: 'short-secret-value', JWT_ALGORITHM: 'none' });
    expect(problems.join('\n')).toMatch(/ACCESS_TOKEN_TTL/);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/JWT_SECRET/);
    expect(problems.join('\n')).toMatch(/JWT_ALGORITHM/);
    expect(problems.join('\n')).not.toMatch(/short-secret-value/);
  });

  it('refuses more than 30 s of clock skew and a zero access-token lifetime', () => {
    expect(problemsOf({ JWT_CLOCK_SKEW: '31s' }).join()).toMatch(/JWT_CLOCK_SKEW/);
    expect(problemsOf({ ACCESS_TOKEN_TTL: '0' }).join()).toMatch(/ACCESS_TOKEN_TTL/);
  });

  it('demands real secrets and a real database in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' }).join('\n');
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/REFRESH_TOKEN_SECRET/);
    expect(problems).toMatch(/JWT_PRIVATE_KEYS/);
    expect(problemsOf({ NODE_ENV: 'production', JWT_ALGORITHM: 'HS256' }).join()).toMatch(/JWT_SECRET/);
  });

  it('makes the cookie Secure by default in production', () => {
    const configuration = loadConfiguration({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/auth',
      REFRESH_TOKEN_SECRET: 'x'.repeat(32),
      JWT_PRIVATE_KEYS: '{"keys":[]}',
    });
    expect(configuration.http.cookieSecure).toBe(true);
    expect(loadConfiguration({ COOKIE_SECURE: 'true' }).http.cookieSecure).toBe(true);
  });
});
