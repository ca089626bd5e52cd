import { Controller, Get, type INestApplication, Injectable } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import pg from 'pg';
import { type AuthPrincipal, CurrentPrincipal, JwtAuthGuard, Roles } from '../src/auth/index.js';
import { VerifiedTokenCache } from '../src/auth/tokens/verified-token-cache.js';
import { startHostApp } from './support/host-app.js';
import { asTestApp, startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

// The guard remembers verified access tokens so that a token seen again skips the signature check.
// Whatever can change while a token lives is still checked on every request: revocation, expiry,
// roles. These specs use each token once first (so it is remembered, which they check), then show
// that the remembered token gets exactly the answers a fresh one would.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectRefused(response: TestResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  if (status === 401) expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
}

/** Uses `token` once, so that the guard remembers it, and checks that it did. */
async function useOnce(app: TestApp, cache: VerifiedTokenCache, token: string): Promise<void> {
  const before = cache.size;
  expect((await app.request('GET', '/auth/claims', { token })).status).toBe(200);
  expect(cache.principalFor(token)).toBeDefined();
  expect(cache.size).toBeGreaterThanOrEqual(Math.min(before + 1, cache.maxEntries));
}

describe('the verified-token cache of the service', () => {
  let app: TestApp;
  let cache: VerifiedTokenCache;
  beforeAll(async () => {
    app = await startTestApp();
    cache = app.app.get(VerifiedTokenCache);
  });
  afterAll(() => app.close());

  it('answers a remembered token with the same claims as the first time', async () => {
    const user = await registerAndLogin(app, 'cache-same');
    const first = await app.request('GET', '/auth/claims', { token: user.accessToken });
    expect(cache.principalFor(user.accessToken)).toBeDefined();
    const again = await app.request('GET', '/auth/claims', { token: user.accessToken });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.body).toMatchObject({ sub: user.userId, sid: user.sessionId });
  });

  it('refuses a remembered token at once after its logout: 401 session_revoked', async () => {
    const user = await registerAndLogin(app, 'cache-logout');
    await useOnce(app, cache, user.accessToken);
    expect((await app.request('POST', '/auth/logout', { token: user.accessToken })).status).toBe(204);
    expectRefused(await app.request('GET', '/auth/claims', { token: user.accessToken }), 401, 'session_revoked');
    expectRefused(await app.request('GET', '/users/me', { token: user.accessToken }), 401, 'session_revoked');
  });

  it('refuses the remembered tokens of every session after logout-all from one of them', async () => {
    const user = await registerAndLogin(app, 'cache-logout-all');
    const other = await login(app, user.email);
    await useOnce(app, cache, user.accessToken);
    await useOnce(app, cache, other.accessToken);
    expect((await app.request('POST', '/auth/logout-all', { token: other.accessToken })).status).toBe(204);
    expectRefused(await app.request('GET', '/auth/claims', { token: user.accessToken }), 401, 'session_revoked');
    expectRefused(await app.request('GET', '/auth/claims', { token: other.accessToken }), 401, 'session_revoked');
  });

  it('refuses a remembered token after a password change ended its session', async () => {
    const user = await registerAndLogin(app, 'cache-password');
    const other = await login(app, user.email);
    await useOnce(app, cache, other.accessToken);
    const changed = await app.request('POST', '/auth/password', {
      token: user.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'another correct horse' },
    });
    expect(changed.status).toBe(204);
    expectRefused(await app.request('GET', '/auth/claims', { token: other.accessToken }), 401, 'session_revoked');
    expect((await app.request('GET', '/auth/claims', { token: user.accessToken })).status).toBe(200);
  });

  it('is keyed by the whole token: a forgery sharing a prefix with a remembered token is refused, and not remembered', async () => {
    const user = await registerAndLogin(app, 'cache-forgery');
    await useOnce(app, cache, user.accessToken);
    const token = user.accessToken;
    const [header, payload, signature] = token.split('.');
    // An admin payload under the remembered token's header, and the remembered token's signature with one character changed.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const adminPayload = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    const forgeries = [
      `${header}.${adminPayload}.${signature}`,
      `${header}.${payload}.${flipped}`,
      `${header}.${payload}.${signature.slice(0, -2)}`,
      `${token}AAAA`,
      `${header}.${payload}.`,
      `${header}.${payload}`,
    ];
    const sizeBefore = cache.size;
    for (const forged of forgeries) {
      expectRefused(await app.request('GET', '/auth/claims', { token: forged }), 401, 'token_invalid');
      expect(cache.principalFor(forged)).toBeUndefined();
    }
    expect(cache.size).toBe(sizeBefore);
    // The real one is still good.
    expect((await app.request('GET', '/auth/claims', { token })).status).toBe(200);
  });
});

describe('the verified-token cache with ACCESS_TOKEN_CACHE_SIZE=3', () => {
  let app: TestApp;
  let cache: VerifiedTokenCache;
  beforeAll(async () => {
    app = await startTestApp({ ACCESS_TOKEN_CACHE_SIZE: '3' });
    cache = app.app.get(VerifiedTokenCache);
  });
  afterAll(() => app.close());

  it('holds at most 3 tokens however many distinct valid ones arrive, and every one of them is still served', async () => {
    const user = await registerAndLogin(app, 'cache-bound');
    const tokens = [user.accessToken];
    for (let index = 0; index < 7; index++) tokens.push((await login(app, user.email)).accessToken);
    for (const token of tokens) {
      expect((await app.request('GET', '/auth/claims', { token })).status).toBe(200);
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.size).toBe(3);
    // A token pushed out is verified again in full, and still answered.
    expect(cache.principalFor(tokens[0])).toBeUndefined();
    expect((await app.request('GET', '/auth/claims', { token: tokens[0] })).status).toBe(200);
    expect(cache.size).toBe(3);
  });
});

describe('the verified-token cache with ACCESS_TOKEN_CACHE_SIZE=0', () => {
  let app: TestApp;
  let cache: VerifiedTokenCache;
  beforeAll(async () => {
    app = await startTestApp({ ACCESS_TOKEN_CACHE_SIZE: '0' });
    cache = app.app.get(VerifiedTokenCache);
  });
  afterAll(() => app.close());

  it('remembers nothing, and the guard verifies every request in full', async () => {
    const user = await registerAndLogin(app, 'cache-off');
    for (let index = 0; index < 3; index++) expect((await app.request('GET', '/auth/claims', { token: user.accessToken })).status).toBe(200);
    expect(cache.size).toBe(0);
    expect((await app.request('POST', '/auth/logout', { token: user.accessToken })).status).toBe(204);
    expectRefused(await app.request('GET', '/auth/claims', { token: user.accessToken }), 401, 'session_revoked');
  });
});

describe('a remembered token past its exp (ACCESS_TOKEN_TTL=2s, JWT_CLOCK_SKEW=0s)', () => {
  let app: TestApp;
  let cache: VerifiedTokenCache;
  beforeAll(async () => {
    app = await startTestApp({ ACCESS_TOKEN_TTL: '2s', JWT_CLOCK_SKEW: '0s' });
    cache = app.app.get(VerifiedTokenCache);
  });
  afterAll(() => app.close());

  it('is refused 401 token_expired, as one never seen before is', async () => {
    const user = await registerAndLogin(app, 'cache-expiry');
    const unused = await login(app, user.email);
    await useOnce(app, cache, user.accessToken);
    await sleep(3000);
    expectRefused(await app.request('GET', '/auth/claims', { token: user.accessToken }), 401, 'token_expired');
    expectRefused(await app.request('GET', '/auth/claims', { token: unused.accessToken }), 401, 'token_expired');
    expect(cache.principalFor(user.accessToken)).toBeUndefined();
  });
});

// A team's app: the package's global guard, a @Roles route, a handler that changes the principal it is given.
@Controller('host')
class HostController {
  @Roles('admin')
  @Get('admin')
  admin() {
    return { admin: true };
  }

  @Get('me')
  me(@CurrentPrincipal() principal: AuthPrincipal) {
    return principal;
  }

  /** Misbehaves: changes its principal. No other request may see that. */
  @Get('meddle')
  meddle(@CurrentPrincipal() principal: AuthPrincipal) {
    principal.roles.push('admin');
    principal.userId = 'someone-else';
    principal.sessionId = 'another-session';
    principal.injected = true;
    return { meddled: true };
  }
}

/** A team's subclass with a constructor of its own, bound as APP_GUARD: it replaces the package's. */
@Injectable()
class OwnConstructorGuard extends JwtAuthGuard {
  readonly createdAt: number;
  constructor(reflector: Reflector) {
    super(reflector);
    this.createdAt = Date.now();
  }
}

async function startCachingHostApp(customGuard: boolean): Promise<{ app: INestApplication; cache: VerifiedTokenCache }> {
  const app = await startHostApp({}, { controllers: [HostController], providers: customGuard ? [{ provide: APP_GUARD, useClass: OwnConstructorGuard }] : [] });
  return { app, cache: app.get(VerifiedTokenCache) };
}

describe.each([
  ['the package global guard', false],
  ['a JwtAuthGuard subclass with its own constructor', true],
])('the verified-token cache in a host app, under %s', (_label, customGuard) => {
  let host: Awaited<ReturnType<typeof startCachingHostApp>>;
  let app: TestApp;
  let db: pg.Client;
  beforeAll(async () => {
    host = await startCachingHostApp(customGuard);
    app = await asTestApp(host.app);
    db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await host?.app.close();
  });

  it('enforces @Roles on every request of a remembered token, whatever a handler did to its own principal', async () => {
    const email = uniqueEmail('cache-roles');
    const registered = await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const user = await login(app, email);
    expect((await app.request('GET', '/host/me', { token: user.accessToken })).status).toBe(200);
    expect(host.cache.principalFor(user.accessToken)).toBeDefined();
    // Answered from the cache by the guard in charge (one lookup per request, whichever guard that is).
    const hits = host.cache.hits;
    expectRefused(await app.request('GET', '/host/admin', { token: user.accessToken }), 403, 'forbidden');
    expect(host.cache.hits).toBe(hits + 1);

    expect((await app.request('GET', '/host/meddle', { token: user.accessToken })).body).toEqual({ meddled: true });
    // Every later request gets the principal the token says, not what the handler made of its copy.
    expectRefused(await app.request('GET', '/host/admin', { token: user.accessToken }), 403, 'forbidden');
    const me = await app.request('GET', '/host/me', { token: user.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: registered.body.id, sessionId: user.sessionId, roles: ['user'] });
    expect(me.body).not.toHaveProperty('injected');

    // Roles come with a new token; the remembered old one keeps the roles it was issued with.
    await db.query(`UPDATE auth_users SET roles = '{admin,user}' WHERE email = $1`, [email]);
    const admin = await login(app, email);
    expect((await app.request('GET', '/host/admin', { token: admin.accessToken })).status).toBe(200);
    expect((await app.request('GET', '/host/admin', { token: admin.accessToken })).body).toEqual({ admin: true });
    expectRefused(await app.request('GET', '/host/admin', { token: user.accessToken }), 403, 'forbidden');
  });

  it('refuses a remembered token at once after its logout', async () => {
    const email = uniqueEmail('cache-host-logout');
    expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const user = await login(app, email);
    expect((await app.request('GET', '/host/me', { token: user.accessToken })).status).toBe(200);
    expect(host.cache.principalFor(user.accessToken)).toBeDefined();
    expect((await app.request('POST', '/auth/logout', { token: user.accessToken })).status).toBe(204);
    expectRefused(await app.request('GET', '/host/me', { token: user.accessToken }), 401, 'session_revoked');
  });

  it('still demands a token: none, or a bad one, is 401 token_invalid', async () => {
    expectRefused(await app.request('GET', '/host/me'), 401, 'token_invalid');
    expectRefused(await app.request('GET', '/host/me', { token: 'not.a.token' }), 401, 'token_invalid');
  });
});
