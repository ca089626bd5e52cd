import { expectErrorBody, isExpiring, setCookieOf } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

const COOKIE = 'refresh_token';
const SECURE_COOKIE = '__Secure-refresh_token';
const ALLOWED_ORIGIN = 'https://app.example.test';
const XRW = { 'x-requested-with': 'XMLHttpRequest' };

describe('refresh cookie and CSRF', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const withCookie = (token: string, headers: Record<string, string> = {}) => ({ headers: { cookie: `${COOKIE}=${token}`, ...headers } });

  it('refreshes with only the cookie and X-Requested-With: 200, a new token pair and a new cookie', async () => {
    const { refreshToken, sessionId } = await registerAndLogin(app, 'cookie-refresh');
    const response = await app.request('POST', '/auth/refresh', withCookie(refreshToken, XRW));
    expect(response.status).toBe(200);
    expect(response.body.sessionId).toBe(sessionId);
    expect(response.body.refreshToken).not.toBe(refreshToken);
    expect(response.headers.get('cache-control')).toMatch(/no-store/);
    const cookie = setCookieOf(response, COOKIE)!;
    expect(cookie.value).toBe(response.body.refreshToken);
    expect(cookie.attributes).toMatchObject({ httponly: true, path: '/auth' });
    expect(String(cookie.attributes.samesite).toLowerCase()).toBe('strict');
    expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(response.body.refreshTokenExpiresIn);
    expect(Number(cookie.attributes['max-age'])).toBeGreaterThan(0);

    // The new cookie is the one that works next.
    expect((await app.request('POST', '/auth/refresh', withCookie(cookie.value, XRW))).status).toBe(200);
  });

  it('refuses the cookie without X-Requested-With: 403 csrf_rejected, and the token is not used up', async () => {
    const { refreshToken } = await registerAndLogin(app, 'cookie-no-xrw');
    const response = await app.request('POST', '/auth/refresh', withCookie(refreshToken));
    expectErrorBody(response, 403, 'csrf_rejected', [refreshToken]);
    expect(setCookieOf(response, COOKIE)).toBeUndefined();
    expect((await app.request('POST', '/auth/refresh', withCookie(refreshToken, XRW))).status).toBe(200);
  });

  it.each([
    ['a foreign origin', 'https://evil.example'],
    ['an opaque null origin', 'null'],
    ['a look-alike of the host', 'http://127.0.0.1.evil.example'],
  ])('refuses the cookie with %s: 403 csrf_rejected', async (_label, origin) => {
    const { refreshToken } = await registerAndLogin(app, 'cookie-origin');
    const response = await app.request('POST', '/auth/refresh', withCookie(refreshToken, { ...XRW, origin }));
    expectErrorBody(response, 403, 'csrf_rejected', [refreshToken]);
    expect((await app.request('POST', '/auth/refresh', withCookie(refreshToken, XRW))).status).toBe(200);
  });

  it("accepts the cookie with the service's own origin", async () => {
    const { refreshToken } = await registerAndLogin(app, 'cookie-same-origin');
    const response = await app.request('POST', '/auth/refresh', withCookie(refreshToken, { ...XRW, origin: app.baseUrl }));
    expect(response.status).toBe(200);
  });

  it('does not apply the CSRF checks to a body token (no cookie)', async () => {
    const { refreshToken } = await registerAndLogin(app, 'body-no-csrf');
    const response = await app.request('POST', '/auth/refresh', { body: { refreshToken }, headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(200);
  });

  it('refuses a body token together with a different cookie token: 400, and neither is used up', async () => {
    const first = await registerAndLogin(app, 'conflict');
    const second = await login(app, first.email);
    const response = await app.request('POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
      headers: { cookie: `${COOKIE}=${second.refreshToken}`, ...XRW },
    });
    expect(response.status).toBe(400);
    expectErrorBody(response, 400, response.body.code, [first.refreshToken, second.refreshToken]);
    expect((await app.request('POST', '/auth/refresh', { body: { refreshToken: first.refreshToken } })).status).toBe(200);
    expect((await app.request('POST', '/auth/refresh', { body: { refreshToken: second.refreshToken } })).status).toBe(200);
  });

  it('accepts the same token in the body and the cookie', async () => {
    const { refreshToken } = await registerAndLogin(app, 'same-both');
    const response = await app.request('POST', '/auth/refresh', { body: { refreshToken }, headers: { cookie: `${COOKIE}=${refreshToken}` } });
    expect(response.status).toBe(200);
  });

  it('answers a request with neither body nor cookie token 401 refresh_token_invalid', async () => {
    expectErrorBody(await app.request('POST', '/auth/refresh', { headers: XRW }), 401, 'refresh_token_invalid');
    expectErrorBody(await app.request('POST', '/auth/refresh', { body: {}, headers: XRW }), 401, 'refresh_token_invalid');
  });

  it('logs out with the cookie: 204, the cookie is expired, the session is revoked', async () => {
    const { refreshToken, accessToken } = await registerAndLogin(app, 'cookie-logout');
    const response = await app.request('POST', '/auth/logout', withCookie(refreshToken, XRW));
    expect(response.status).toBe(204);
    const cleared = setCookieOf(response, COOKIE);
    expect(cleared).toBeDefined();
    expect(isExpiring(cleared!)).toBe(true);
    expect(cleared!.value).toBe('');
    expect(cleared!.attributes.path).toBe('/auth');
    expectErrorBody(await app.request('POST', '/auth/refresh', withCookie(refreshToken, XRW)), 401, 'session_revoked');
    expectErrorBody(await app.request('GET', '/users/me', { token: accessToken }), 401, 'session_revoked');
  });

  it('clears the cookie on a Bearer logout too', async () => {
    const { accessToken } = await registerAndLogin(app, 'bearer-logout-cookie');
    const response = await app.request('POST', '/auth/logout', { token: accessToken });
    expect(response.status).toBe(204);
    expect(isExpiring(setCookieOf(response, COOKIE)!)).toBe(true);
  });

  it('refuses a cookie logout without X-Requested-With (403 csrf_rejected) and keeps the session', async () => {
    const { refreshToken } = await registerAndLogin(app, 'cookie-logout-csrf');
    const response = await app.request('POST', '/auth/logout', withCookie(refreshToken));
    expectErrorBody(response, 403, 'csrf_rejected');
    expect(setCookieOf(response, COOKIE)).toBeUndefined();
    const foreign = await app.request('POST', '/auth/logout', withCookie(refreshToken, { ...XRW, origin: 'https://evil.example' }));
    expectErrorBody(foreign, 403, 'csrf_rejected');
    expect((await app.request('POST', '/auth/refresh', withCookie(refreshToken, XRW))).status).toBe(200);
  });

  it('ignores a cookie of another name', async () => {
    const { refreshToken } = await registerAndLogin(app, 'cookie-wrong-name');
    const response = await app.request('POST', '/auth/refresh', { headers: { cookie: `${SECURE_COOKIE}=${refreshToken}`, ...XRW } });
    expectErrorBody(response, 401, 'refresh_token_invalid', [refreshToken]);
  });

  it('sets a Max-Age no longer than the session has left (REFRESH_TOKEN_TTL shorter than the idle limit)', async () => {
    const short = await startTestApp({ REFRESH_TOKEN_TTL: '90' });
    try {
      const email = uniqueEmail('short-ttl');
      expect((await short.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
      const response = await short.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
      expect(response.status).toBe(200);
      expect(response.body.refreshTokenExpiresIn).toBeLessThanOrEqual(90);
      const maxAge = Number(setCookieOf(response, COOKIE)!.attributes['max-age']);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(response.body.refreshTokenExpiresIn);
    } finally {
      await short.close();
    }
  });

  describe('with CORS_ORIGINS', () => {
    let cors: TestApp;
    beforeAll(async () => {
      cors = await startTestApp({ CORS_ORIGINS: `https://other.example.test, ${ALLOWED_ORIGIN}` });
    });
    afterAll(() => cors.close());

    it('accepts the cookie from an allowed origin: 200', async () => {
      const { refreshToken } = await registerAndLogin(cors, 'cors-allowed');
      const response = await cors.request('POST', '/auth/refresh', withCookie(refreshToken, { ...XRW, origin: ALLOWED_ORIGIN }));
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(response.headers.get('access-control-allow-credentials')).toBe('true');
      expect(setCookieOf(response, COOKIE)!.value).toBe(response.body.refreshToken);
    });

    it('still refuses an origin that is not listed: 403 csrf_rejected', async () => {
      const { refreshToken } = await registerAndLogin(cors, 'cors-refused');
      const response = await cors.request('POST', '/auth/refresh', withCookie(refreshToken, { ...XRW, origin: 'https://evil.example' }));
      expectErrorBody(response, 403, 'csrf_rejected');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('answers the preflight for an allowed origin with X-Requested-With allowed, and not for others', async () => {
      const preflight = (origin: string) =>
        cors.request('OPTIONS', '/auth/refresh', {
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-requested-with,content-type' },
        });
      const allowed = await preflight(ALLOWED_ORIGIN);
      expect(allowed.status).toBeLessThan(300);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-requested-with');
      const refused = await preflight('https://evil.example');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('with COOKIE_SECURE=true', () => {
    let secure: TestApp;
    beforeAll(async () => {
      secure = await startTestApp({ COOKIE_SECURE: 'true' });
    });
    afterAll(() => secure.close());

    it('names the cookie __Secure-refresh_token and marks it Secure', async () => {
      const email = uniqueEmail('secure');
      expect((await secure.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
      const response = await secure.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
      expect(response.status).toBe(200);
      expect(setCookieOf(response, COOKIE)).toBeUndefined();
      const cookie = setCookieOf(response, SECURE_COOKIE)!;
      expect(cookie.value).toBe(response.body.refreshToken);
      expect(cookie.attributes).toMatchObject({ secure: true, httponly: true, path: '/auth' });
      expect(String(cookie.attributes.samesite).toLowerCase()).toBe('strict');

      const refreshed = await secure.request('POST', '/auth/refresh', { headers: { cookie: `${SECURE_COOKIE}=${cookie.value}`, ...XRW } });
      expect(refreshed.status).toBe(200);
      expect(setCookieOf(refreshed, SECURE_COOKIE)!.attributes.secure).toBe(true);

      const loggedOut = await secure.request('POST', '/auth/logout', { headers: { cookie: `${SECURE_COOKIE}=${refreshed.body.refreshToken}`, ...XRW } });
      expect(loggedOut.status).toBe(204);
      const cleared = setCookieOf(loggedOut, SECURE_COOKIE)!;
      expect(isExpiring(cleared)).toBe(true);
      expect(cleared.attributes.secure).toBe(true);
    });

    it('ignores an unprefixed refresh_token cookie', async () => {
      const { refreshToken } = await registerAndLogin(secure, 'secure-unprefixed');
      const response = await secure.request('POST', '/auth/refresh', { headers: { cookie: `${COOKIE}=${refreshToken}`, ...XRW } });
      expectErrorBody(response, 401, 'refresh_token_invalid', [refreshToken]);
    });
  });
});
