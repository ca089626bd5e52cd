import { generateKeyPairSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { authOptionsFromEnv, type AuthModuleOptions } from '../auth.options.js';
import { RATE_LIMITS } from '../guards/rate-limit.policies.js';
import { generatePrivateJwk } from '../tokens/signing-keys.js';
import { AuthSettings, checkAuthOptions, checkExtraClaims, resolveAuthSettings } from './auth-settings.js';
import { ConfigurationError } from './configuration-error.js';
import { parseDurationSeconds } from './duration.js';

const REFRESH_SECRET = 'r'.repeat(32);
const JWKS = JSON.stringify({ keys: [generatePrivateJwk('ES256')] });
/** The least the module accepts: the two secrets of the default algorithm. */
const REQUIRED = { refreshTokenSecret: REFRESH_SECRET, jwtPrivateKeys: JWKS } satisfies AuthModuleOptions;

/** The problems of the one ConfigurationError `action` throws. */
function problemsOf(action: () => unknown): string[] {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigurationError);
  const { problems, message } = thrown as ConfigurationError;
  // The message lists every problem.
  for (const problem of problems) expect(message).toContain(problem);
  return problems;
}

const optionProblems = (options: Partial<AuthModuleOptions>) => problemsOf(() => resolveAuthSettings({ ...REQUIRED, ...options }));
const envProblems = (env: Record<string, string>) => problemsOf(() => authOptionsFromEnv(env));

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

describe('resolveAuthSettings', () => {
  it('applies the contract defaults', () => {
    const settings = resolveAuthSettings(REQUIRED);
    expect(settings).toBeInstanceOf(AuthSettings);
    expect(settings.tokens).toEqual({
      accessTokenTtl: 15 * 60,
      refreshTokenTtl: 30 * 86400,
      refreshIdleTtl: 7 * 86400,
      refreshReuseGrace: 10,
      algorithm: 'ES256',
      issuer: 'auth-service',
      audience: 'api',
      clockSkew: 5,
    });
    expect(settings.revocationMaxStaleness).toBe(5);
    expect(settings.cookieSecure).toBe(true);
    expect(settings.sessionsPerUserMax).toBe(100);
    expect(settings.rateLimit).toEqual({ enabled: true, policies: RATE_LIMITS });
    expect(settings.allowedOrigins).toEqual([]);
    expect(settings.refreshTokenSecret).toBe(REFRESH_SECRET);
    expect(settings.extraClaims).toBeUndefined();
    expect(settings.signingKeys.algorithm).toBe('ES256');
    expect(settings.signingKeys.signing.kid).toBe(JSON.parse(JWKS).keys[0].kid);
  });

  it('takes durations as seconds or as text with a unit', () => {
    const settings = resolveAuthSettings({
      ...REQUIRED,
      accessTokenTtl: '15m',
      refreshTokenTtl: 86400,
      refreshIdleTtl: '12h',
      refreshReuseGrace: 0,
      jwtClockSkew: '30s',
      revocationMaxStaleness: '2',
    });
    expect(settings.tokens).toMatchObject({ accessTokenTtl: 900, refreshTokenTtl: 86400, refreshIdleTtl: 43200, refreshReuseGrace: 0, clockSkew: 30 });
    expect(settings.revocationMaxStaleness).toBe(2);
    expect(resolveAuthSettings({ ...REQUIRED, accessTokenTtl: 900 }).tokens.accessTokenTtl).toBe(900);
  });

  it('takes the other settings as given', () => {
    const extraClaims = () => ({ tenantId: 't-1' });
    const origins = ['https://app.example'];
    const settings = resolveAuthSettings({
      ...REQUIRED,
      jwtIssuer: 'https://auth.example.test',
      jwtAudience: 'orders-api',
      cookieSecure: false,
      allowedOrigins: origins,
      sessionsPerUserMax: 3,
      rateLimit: false,
      extraClaims,
    });
    expect(settings.tokens).toMatchObject({ issuer: 'https://auth.example.test', audience: 'orders-api' });
    expect(settings).toMatchObject({ cookieSecure: false, allowedOrigins: origins, sessionsPerUserMax: 3, extraClaims });
    expect(settings.rateLimit.enabled).toBe(false);
    // A copy: the host changing its array later changes nothing.
    origins.push('https://late.example');
    expect(settings.allowedOrigins).toEqual(['https://app.example']);
  });

  it('takes the key set as an object, and HS256 with jwtSecret alone', () => {
    expect(resolveAuthSettings({ refreshTokenSecret: REFRESH_SECRET, jwtPrivateKeys: JSON.parse(JWKS) }).signingKeys.signing.kid).toBe(
      JSON.parse(JWKS).keys[0].kid,
    );
    const rs = generatePrivateJwk('RS256');
    expect(resolveAuthSettings({ refreshTokenSecret: REFRESH_SECRET, jwtAlgorithm: 'RS256', jwtPrivateKeys: { keys: [rs] } }).signingKeys.algorithm).toBe('RS256');
    const hs = resolveAuthSettings({ refreshTokenSecret: REFRESH_SECRET, jwtAlgorithm: 'HS256', jwtSecret: 's'.repeat(32) });
    expect(hs.signingKeys.algorithm).toBe('HS256');
    expect(hs.tokens.algorithm).toBe('HS256');
  });

  it('lists every problem in one ConfigurationError, each named by its option key', () => {
    const problems = optionProblems({
      accessTokenTtl: 0,
      refreshTokenTtl: '1 month',
      refreshIdleTtl: -1,
      refreshReuseGrace: 1.5,
      jwtClockSkew: '31s',
      revocationMaxStaleness: 0,
      jwtIssuer: '',
      refreshTokenSecret: 'too short',
      sessionsPerUserMax: 0,
      cookieSecure: 'yes' as unknown as boolean,
      allowedOrigins: 'https://a.example' as unknown as string[],
      extraClaims: { tenantId: 't' } as unknown as AuthModuleOptions['extraClaims'],
    });
    expect(problems).toEqual([
      'accessTokenTtl must be at least 1 second',
      'refreshTokenTtl must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
      'refreshIdleTtl must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
      'refreshReuseGrace must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
      'jwtIssuer must be a non-empty string',
      'jwtClockSkew must be at most 30s',
      'revocationMaxStaleness must be at least 1 second',
      'refreshTokenSecret must be at least 32 bytes',
      'sessionsPerUserMax must be a whole number of at least 1',
      'allowedOrigins must be a list of origins',
      'cookieSecure must be true or false',
      'extraClaims must be a function',
    ]);
  });

  it('refuses an unknown algorithm', () => {
    expect(optionProblems({ jwtAlgorithm: 'none' as never })).toEqual(['jwtAlgorithm must be ES256, RS256 or HS256']);
    expect(optionProblems({ jwtAlgorithm: 'EdDSA' as never })).toEqual(['jwtAlgorithm must be ES256, RS256 or HS256']);
  });

  it('refuses a clock skew over 30 seconds, and takes 30', () => {
    expect(optionProblems({ jwtClockSkew: 31 })).toEqual(['jwtClockSkew must be at most 30s']);
    expect(optionProblems({ jwtClockSkew: '1m' })).toEqual(['jwtClockSkew must be at most 30s']);
    expect(resolveAuthSettings({ ...REQUIRED, jwtClockSkew: 30 }).tokens.clockSkew).toBe(30);
    expect(resolveAuthSettings({ ...REQUIRED, jwtClockSkew: 0 }).tokens.clockSkew).toBe(0);
  });

  it('demands the refresh-token secret and the signing keys', () => {
    expect(problemsOf(() => resolveAuthSettings({} as AuthModuleOptions))).toEqual([
      'refreshTokenSecret is required',
      'jwtPrivateKeys is required for ES256 (a private JWK Set: {"keys": [...]})',
    ]);
    expect(problemsOf(() => resolveAuthSettings({ refreshTokenSecret: REFRESH_SECRET, jwtAlgorithm: 'RS256' }))).toEqual([
      'jwtPrivateKeys is required for RS256 (a private JWK Set: {"keys": [...]})',
    ]);
    // HS256 signs with jwtSecret: the key set is neither needed nor enough.
    expect(problemsOf(() => resolveAuthSettings({ ...REQUIRED, jwtAlgorithm: 'HS256' }))).toEqual(['jwtSecret is required']);
  });

  it('refuses secrets shorter than 32 bytes, counting bytes', () => {
    expect(optionProblems({ refreshTokenSecret: 'x'.repeat(31) })).toEqual(['refreshTokenSecret must be at least 32 bytes']);
    expect(optionProblems({ jwtAlgorithm: 'HS256', jwtSecret: 'x'.repeat(31) })).toEqual(['jwtSecret must be at least 32 bytes']);
    // Checked whenever given, even when the algorithm does not use it.
    expect(optionProblems({ jwtSecret: 'x'.repeat(31) })).toEqual(['jwtSecret must be at least 32 bytes']);
    // 16 two-byte characters are 32 bytes.
    expect(resolveAuthSettings({ ...REQUIRED, refreshTokenSecret: 'é'.repeat(16) }).refreshTokenSecret).toBe('é'.repeat(16));
  });

  it('refuses a bad key set, named by its option key', () => {
    expect(optionProblems({ jwtPrivateKeys: 'not json' })).toEqual(['jwtPrivateKeys is not valid JSON (expected {"keys": [...]})']);
    expect(optionProblems({ jwtPrivateKeys: { keys: [] } })[0]).toMatch(/^jwtPrivateKeys must be a JWK Set/);
    expect(optionProblems({ jwtAlgorithm: 'RS256' })[0]).toMatch(/^jwtPrivateKeys key 0: RS256 needs kty RSA/);
  });

  describe('rateLimit', () => {
    const custom = { name: 'login', perClient: { max: 3, windowMs: 1000 } };

    it('is on by default, off with false, and takes replacement policies', () => {
      expect(resolveAuthSettings({ ...REQUIRED, rateLimit: true }).rateLimit).toEqual({ enabled: true, policies: RATE_LIMITS });
      expect(resolveAuthSettings({ ...REQUIRED, rateLimit: false }).rateLimit.enabled).toBe(false);
      const { rateLimit } = resolveAuthSettings({ ...REQUIRED, rateLimit: { login: custom } });
      expect(rateLimit).toEqual({ enabled: true, policies: { ...RATE_LIMITS, login: custom } });
    });

    it('keeps a replaced password policy counting per user unless it says otherwise', () => {
      const password = { name: 'password', perClient: { max: 5, windowMs: 1000 }, perAccount: { max: 2, windowMs: 1000 } };
      expect(resolveAuthSettings({ ...REQUIRED, rateLimit: { password } }).rateLimit.policies.password).toEqual({ ...password, account: 'user' });
      const byEmail = resolveAuthSettings({ ...REQUIRED, rateLimit: { password: { ...password, account: 'email' } } });
      expect(byEmail.rateLimit.policies.password.account).toBe('email');
    });

    it.each<[string, unknown, string]>([
      ['a string', 'on', 'rateLimit must be true, false or an object of policies (login, register, refresh, password)'],
      ['null', null, 'rateLimit must be true, false or an object of policies (login, register, refresh, password)'],
      ['an unknown route', { logout: custom }, 'rateLimit.logout is not a rate-limited route (login, register, refresh, password)'],
      ['a policy without perClient', { login: { name: 'login' } }, 'rateLimit.login needs perClient (and optionally perAccount) as { max, windowMs } with whole numbers of at least 1'],
      ['a zero max', { login: { ...custom, perClient: { max: 0, windowMs: 1000 } } }, 'rateLimit.login needs perClient'],
      ['a fractional window', { refresh: { ...custom, perClient: { max: 1, windowMs: 0.5 } } }, 'rateLimit.refresh needs perClient'],
      ['a bad perAccount', { register: { ...custom, perAccount: { max: 1 } } }, 'rateLimit.register needs perClient'],
      ['a policy that is not an object', { login: 5 }, 'rateLimit.login needs perClient'],
      ['an unknown account key', { login: { ...custom, account: 'ip' } }, "rateLimit.login.account must be 'email' or 'user'"],
    ])('refuses %s', (_name, rateLimit, message) => {
      const problems = optionProblems({ rateLimit: rateLimit as AuthModuleOptions['rateLimit'] });
      expect(problems).toHaveLength(1);
      expect(problems[0].startsWith(message)).toBe(true);
    });
  });

  describe('retention and clean-up', () => {
    it('default to 7 days of ended sessions, a round every 10 minutes and 90 days of events', () => {
      const settings = resolveAuthSettings(REQUIRED);
      expect(settings.sessionRetention).toBe(7 * 86400);
      expect(settings.cleanupInterval).toBe(10 * 60);
      expect(settings.auditRetention).toBe(90 * 86400);
    });

    it('take seconds or text with a unit, and a session retention of 0', () => {
      const settings = resolveAuthSettings({ ...REQUIRED, sessionRetention: '1d', cleanupInterval: 30, auditRetention: '365d' });
      expect([settings.sessionRetention, settings.cleanupInterval, settings.auditRetention]).toEqual([86400, 30, 365 * 86400]);
      expect(resolveAuthSettings({ ...REQUIRED, sessionRetention: 0 }).sessionRetention).toBe(0);
      expect(resolveAuthSettings({ ...REQUIRED, cleanupInterval: '1s' }).cleanupInterval).toBe(1);
    });

    it('refuse a clean-up interval under 1 second, an audit retention of 0, and what is no duration, by option key', () => {
      expect(optionProblems({ cleanupInterval: 0, auditRetention: '0', sessionRetention: '1 week' })).toEqual([
        'sessionRetention must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
        'cleanupInterval must be at least 1 second',
        'auditRetention must be at least 1 second',
      ]);
      expect(optionProblems({ sessionRetention: -1 })).toEqual(['sessionRetention must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)']);
      expect(optionProblems({ cleanupInterval: 1.5 })).toEqual(['cleanupInterval must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)']);
    });
  });

  describe('accessTokenCacheSize and password hashing', () => {
    it('default to 10000 cached tokens, one core fewer hashes than there are cores (at least 1), and a queue of 32', () => {
      const settings = resolveAuthSettings(REQUIRED);
      expect(settings.accessTokenCacheSize).toBe(10_000);
      expect(settings.passwordHashing).toEqual({ concurrency: Math.max(1, availableParallelism() - 1), queue: 32 });
    });

    it('take whole numbers, a cache of 0 (off) and a queue of 0', () => {
      const settings = resolveAuthSettings({ ...REQUIRED, accessTokenCacheSize: 0, passwordHashConcurrency: 3, passwordHashQueue: 0 });
      expect(settings.accessTokenCacheSize).toBe(0);
      expect(settings.passwordHashing).toEqual({ concurrency: 3, queue: 0 });
    });

    it('refuse what is not a whole number in range, by option key', () => {
      expect(optionProblems({ accessTokenCacheSize: -1, passwordHashConcurrency: 0, passwordHashQueue: 1.5 })).toEqual([
        'accessTokenCacheSize must be a whole number from 0 to 1000000',
        'passwordHashConcurrency must be a whole number from 1 to 1024',
        'passwordHashQueue must be a whole number from 0 to 100000',
      ]);
      expect(optionProblems({ accessTokenCacheSize: '10' as unknown as number })).toEqual(['accessTokenCacheSize must be a whole number from 0 to 1000000']);
      expect(optionProblems({ accessTokenCacheSize: 2_000_000 })).toEqual(['accessTokenCacheSize must be a whole number from 0 to 1000000']);
    });
  });

  it('refuses options that are not an object', () => {
    expect(problemsOf(() => resolveAuthSettings(undefined as unknown as AuthModuleOptions))).toEqual(['the auth module options must be an object']);
  });

  it('never puts a secret value in an error message', () => {
    const refreshTokenSecret = 'refresh-secret-value';
    const jwtSecret = 'jwt-secret-value';
    const broken = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), x: 'AAAA', kid: 'k' };
    const messages = [
      problemsOf(() => resolveAuthSettings({ refreshTokenSecret, jwtAlgorithm: 'HS256', jwtSecret })),
      problemsOf(() => resolveAuthSettings({ ...REQUIRED, jwtPrivateKeys: { keys: [broken] } })),
      problemsOf(() => resolveAuthSettings({ ...REQUIRED, jwtPrivateKeys: `{"keys": [${broken.d}` })),
    ].join('\n');
    for (const secret of [refreshTokenSecret, jwtSecret, broken.d!]) expect(messages).not.toContain(secret);
  });
});

describe('checkAuthOptions', () => {
  it('names problems by variable when asked to', () => {
    expect(problemsOf(() => checkAuthOptions({ ...REQUIRED, accessTokenTtl: 0, jwtClockSkew: 31 }, { names: 'env', requireSecrets: true }))).toEqual([
      'ACCESS_TOKEN_TTL must be at least 1 second',
      'JWT_CLOCK_SKEW must be at most 30s',
    ]);
  });

  it('lets the secrets be missing when they are not demanded, and then loads no keys', () => {
    const checked = checkAuthOptions({} as AuthModuleOptions, { names: 'options', requireSecrets: false });
    expect(checked.signingKeys).toBeUndefined();
    expect(checked.tokens.accessTokenTtl).toBe(900);
    // A secret that is given is still checked.
    expect(problemsOf(() => checkAuthOptions({ refreshTokenSecret: 'short' }, { names: 'options', requireSecrets: false }))).toEqual([
      'refreshTokenSecret must be at least 32 bytes',
    ]);
  });
});

describe('authOptionsFromEnv', () => {
  const PRODUCTION = { NODE_ENV: 'production', REFRESH_TOKEN_SECRET: REFRESH_SECRET, JWT_PRIVATE_KEYS: JWKS };

  it('maps each variable to its option, leaving out what is unset', () => {
    expect(
      authOptionsFromEnv({
        ACCESS_TOKEN_TTL: '5m',
        REFRESH_TOKEN_TTL: '60d',
        REFRESH_IDLE_TTL: '1d',
        REFRESH_REUSE_GRACE: '0',
        JWT_ALGORITHM: 'RS256',
        JWT_ISSUER: 'https://auth.example.test',
        JWT_AUDIENCE: 'orders-api',
        JWT_CLOCK_SKEW: '10s',
        REFRESH_TOKEN_SECRET: REFRESH_SECRET,
        COOKIE_SECURE: 'false',
        CORS_ORIGINS: 'https://a.example',
        RATE_LIMIT: 'on',
        SESSIONS_PER_USER_MAX: '5',
        REVOCATION_MAX_STALENESS: '3s',
        PORT: '8080',
      }),
    ).toEqual({
      accessTokenTtl: '5m',
      refreshTokenTtl: '60d',
      refreshIdleTtl: '1d',
      refreshReuseGrace: '0',
      jwtAlgorithm: 'RS256',
      jwtIssuer: 'https://auth.example.test',
      jwtAudience: 'orders-api',
      jwtClockSkew: '10s',
      refreshTokenSecret: REFRESH_SECRET,
      cookieSecure: false,
      allowedOrigins: ['https://a.example'],
      rateLimit: true,
      sessionsPerUserMax: 5,
      revocationMaxStaleness: '3s',
    });
    expect(authOptionsFromEnv({})).toEqual({ cookieSecure: false, allowedOrigins: [], rateLimit: true });
    // Empty strings count as unset.
    expect(authOptionsFromEnv({ ACCESS_TOKEN_TTL: '', REFRESH_TOKEN_SECRET: '' })).toEqual({ cookieSecure: false, allowedOrigins: [], rateLimit: true });
  });

  it('gives options that resolveAuthSettings resolves', () => {
    const settings = resolveAuthSettings(authOptionsFromEnv({ ...PRODUCTION, ACCESS_TOKEN_TTL: '5m', SESSIONS_PER_USER_MAX: '5' }));
    expect(settings.tokens.accessTokenTtl).toBe(300);
    expect(settings.sessionsPerUserMax).toBe(5);
    expect(settings.signingKeys.signing.kid).toBe(JSON.parse(JWKS).keys[0].kid);
  });

  it('makes COOKIE_SECURE default to NODE_ENV=production', () => {
    expect(authOptionsFromEnv({}).cookieSecure).toBe(false);
    expect(authOptionsFromEnv({ NODE_ENV: 'development' }).cookieSecure).toBe(false);
    expect(authOptionsFromEnv(PRODUCTION).cookieSecure).toBe(true);
    expect(authOptionsFromEnv({ ...PRODUCTION, COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
    expect(authOptionsFromEnv({ COOKIE_SECURE: 'true' }).cookieSecure).toBe(true);
    expect(envProblems({ COOKIE_SECURE: 'yes' }).join()).toMatch(/^COOKIE_SECURE /);
  });

  it('splits CORS_ORIGINS on commas, trimmed, without empty entries', () => {
    expect(authOptionsFromEnv({ CORS_ORIGINS: ' https://a.example ,https://b.example, ,' }).allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('maps SESSION_RETENTION, CLEANUP_INTERVAL and AUDIT_RETENTION, which resolve to seconds', () => {
    const options = authOptionsFromEnv({ ...PRODUCTION, SESSION_RETENTION: '2d', CLEANUP_INTERVAL: '90', AUDIT_RETENTION: '30d' });
    expect(options).toMatchObject({ sessionRetention: '2d', cleanupInterval: '90', auditRetention: '30d' });
    const settings = resolveAuthSettings(options);
    expect([settings.sessionRetention, settings.cleanupInterval, settings.auditRetention]).toEqual([2 * 86400, 90, 30 * 86400]);
    expect(authOptionsFromEnv({})).not.toHaveProperty('sessionRetention');
  });

  it('names bad retention and interval variables', () => {
    expect(envProblems({ CLEANUP_INTERVAL: '0' })).toEqual(['CLEANUP_INTERVAL must be at least 1 second']);
    expect(envProblems({ AUDIT_RETENTION: '0d' })).toEqual(['AUDIT_RETENTION must be at least 1 second']);
    expect(envProblems({ SESSION_RETENTION: 'forever', CLEANUP_INTERVAL: '10 m' })).toEqual([
      'SESSION_RETENTION must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
      'CLEANUP_INTERVAL must be seconds (900) or a number with a unit suffix s, m, h or d (15m, 30d)',
    ]);
  });

  it('maps ACCESS_TOKEN_CACHE_SIZE, PASSWORD_HASH_CONCURRENCY and PASSWORD_HASH_QUEUE, and names bad ones', () => {
    const options = authOptionsFromEnv({ ...PRODUCTION, ACCESS_TOKEN_CACHE_SIZE: '0', PASSWORD_HASH_CONCURRENCY: '2', PASSWORD_HASH_QUEUE: '8' });
    expect(options).toMatchObject({ accessTokenCacheSize: 0, passwordHashConcurrency: 2, passwordHashQueue: 8 });
    const settings = resolveAuthSettings(options);
    expect(settings.accessTokenCacheSize).toBe(0);
    expect(settings.passwordHashing).toEqual({ concurrency: 2, queue: 8 });
    expect(authOptionsFromEnv({})).not.toHaveProperty('accessTokenCacheSize');
    expect(envProblems({ ACCESS_TOKEN_CACHE_SIZE: 'lots' }).join()).toMatch(/^ACCESS_TOKEN_CACHE_SIZE /);
    expect(envProblems({ PASSWORD_HASH_CONCURRENCY: '0', PASSWORD_HASH_QUEUE: '-1' })).toEqual([
      'PASSWORD_HASH_CONCURRENCY must be a whole number from 1 to 1024',
      'PASSWORD_HASH_QUEUE must be a whole number from 0 to 100000',
    ]);
  });

  it('turns RATE_LIMIT=off into rateLimit false', () => {
    expect(authOptionsFromEnv({ RATE_LIMIT: 'off' }).rateLimit).toBe(false);
    expect(authOptionsFromEnv({ RATE_LIMIT: 'on' }).rateLimit).toBe(true);
    expect(envProblems({ RATE_LIMIT: 'false' }).join()).toMatch(/^RATE_LIMIT /);
  });

  it('names problems by variable', () => {
    expect(envProblems({ ACCESS_TOKEN_TTL: '0' })).toEqual(['ACCESS_TOKEN_TTL must be at least 1 second']);
    expect(envProblems({ JWT_CLOCK_SKEW: '31s' })).toEqual(['JWT_CLOCK_SKEW must be at most 30s']);
    expect(envProblems({ REVOCATION_MAX_STALENESS: '0' })).toEqual(['REVOCATION_MAX_STALENESS must be at least 1 second']);
    expect(envProblems({ JWT_PRIVATE_KEYS: 'not json' })).toEqual(['JWT_PRIVATE_KEYS is not valid JSON (expected {"keys": [...]})']);
  });

  it('lists every bad variable in one ConfigurationError', () => {
    const problems = envProblems({ ACCESS_TOKEN_TTL: 'soon', JWT_ALGORITHM: 'none', SESSIONS_PER_USER_MAX: '0', RATE_LIMIT: 'maybe', NODE_ENV: 'staging' });
    expect(problems.map((problem) => problem.split(' ')[0]).sort()).toEqual(['ACCESS_TOKEN_TTL', 'JWT_ALGORITHM', 'NODE_ENV', 'RATE_LIMIT', 'SESSIONS_PER_USER_MAX']);
    expect(envProblems({ ACCESS_TOKEN_TTL: '0', REFRESH_IDLE_TTL: '0', JWT_CLOCK_SKEW: '1m' })).toEqual([
      'ACCESS_TOKEN_TTL must be at least 1 second',
      'REFRESH_IDLE_TTL must be at least 1 second',
      'JWT_CLOCK_SKEW must be at most 30s',
    ]);
  });

  it('lets the secrets be missing outside production: the host fills them in and the module demands them', () => {
    for (const NODE_ENV of [undefined, 'development', 'test']) {
      const options = authOptionsFromEnv({ NODE_ENV });
      expect(options.refreshTokenSecret).toBeUndefined();
      expect(options.jwtPrivateKeys).toBeUndefined();
      expect(authOptionsFromEnv({ NODE_ENV, JWT_ALGORITHM: 'HS256' }).jwtSecret).toBeUndefined();
    }
    expect(problemsOf(() => resolveAuthSettings(authOptionsFromEnv({})))).toEqual([
      'refreshTokenSecret is required',
      'jwtPrivateKeys is required for ES256 (a private JWK Set: {"keys": [...]})',
    ]);
  });

  it('demands the secrets with NODE_ENV=production, named by variable', () => {
    expect(envProblems({ NODE_ENV: 'production' })).toEqual([
      'REFRESH_TOKEN_SECRET is required',
      'JWT_PRIVATE_KEYS is required for ES256 (a private JWK Set: {"keys": [...]})',
    ]);
    expect(envProblems({ NODE_ENV: 'production', JWT_ALGORITHM: 'RS256', REFRESH_TOKEN_SECRET: REFRESH_SECRET })).toEqual([
      'JWT_PRIVATE_KEYS is required for RS256 (a private JWK Set: {"keys": [...]})',
    ]);
    expect(envProblems({ NODE_ENV: 'production', JWT_ALGORITHM: 'HS256', REFRESH_TOKEN_SECRET: REFRESH_SECRET })).toEqual(['JWT_SECRET is required']);
    expect(authOptionsFromEnv({ NODE_ENV: 'production', JWT_ALGORITHM: 'HS256', REFRESH_TOKEN_SECRET: REFRESH_SECRET, JWT_SECRET: 's'.repeat(32) }).jwtSecret).toBe(
      's'.repeat(32),
    );
  });

  it('refuses secrets shorter than 32 bytes', () => {
    expect(envProblems({ REFRESH_TOKEN_SECRET: 'x'.repeat(31) })).toEqual(['REFRESH_TOKEN_SECRET must be at least 32 bytes']);
    expect(envProblems({ JWT_ALGORITHM: 'HS256', JWT_SECRET: 'x'.repeat(31) })).toEqual(['JWT_SECRET must be at least 32 bytes']);
  });

  it('never puts a secret value in an error message', () => {
    const secrets = { REFRESH_TOKEN_SECRET: 'short-refresh-secret', JWT_SECRET: 'short-jwt-secret' };
    const broken = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), x: 'AAAA', kid: 'k' };
    const messages = [
      envProblems({ ...secrets, JWT_ALGORITHM: 'HS256' }),
      envProblems({ NODE_ENV: 'production', ...secrets }),
      envProblems({ JWT_PRIVATE_KEYS: JSON.stringify({ keys: [broken] }) }),
      envProblems({ JWT_PRIVATE_KEYS: `{"keys": [${broken.d}` }),
      envProblems({ JWT_PRIVATE_KEYS: JSON.stringify({ keys: [{ ...broken, x: undefined, use: 'enc' }] }) }),
    ]
      .flat()
      .join('\n');
    expect(messages).toMatch(/REFRESH_TOKEN_SECRET/);
    expect(messages).toMatch(/JWT_PRIVATE_KEYS key 0/);
    for (const secret of [...Object.values(secrets), broken.d!]) expect(messages).not.toContain(secret);
  });
});

describe('checkExtraClaims', () => {
  it('returns an object of claims of other names as it is', () => {
    const claims = { tenantId: 't-1', plan: { tier: 'gold' }, scopes: ['read'] };
    expect(checkExtraClaims(claims)).toBe(claims);
    expect(checkExtraClaims({})).toEqual({});
  });

  it.each(['sub', 'sid', 'roles', 'exp', 'iat', 'jti', 'iss', 'aud', 'nbf', 'userId', 'sessionId'])('refuses the reserved name %s', (name) => {
    expect(() => checkExtraClaims({ tenantId: 't-1', [name]: 'x' })).toThrow(new TypeError(`extraClaims returned the reserved claim "${name}"`));
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'tenant'],
    ['a number', 42],
    ['an array', [{ tenantId: 't-1' }]],
  ])('refuses %s', (_name, value) => {
    expect(() => checkExtraClaims(value)).toThrow(new TypeError('extraClaims must return an object'));
  });
});
