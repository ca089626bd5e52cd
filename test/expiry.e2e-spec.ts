import pg from 'pg';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { login, registerAndLogin } from './support/users.js';

// Lifetimes (API.md "Running it" and "Rotation and reuse detection"): the absolute one that rotation
// never extends, the idle one that use does, and the access token's own. Short lifetimes, real waits:
// every assertion is about an outcome after a wait, never about how fast something was.
type Tokens = Awaited<ReturnType<typeof login>>;

const BASE_ENV = { RATE_LIMIT: 'off' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()));
const refresh = (app: TestApp, refreshToken: string) => app.request('POST', '/auth/refresh', { body: { refreshToken } });

function expectRefused(response: TestResponse, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code });
}

function expectRotated(response: TestResponse, sessionId: string): Tokens {
  expect(response.status).toBe(200);
  expect(response.body.sessionId).toBe(sessionId);
  return response.body as Tokens;
}

async function listedSession(app: TestApp, accessToken: string, sessionId: string) {
  const response = await app.request('GET', '/auth/sessions', { token: accessToken });
  expect(response.status).toBe(200);
  return (response.body as { id: string; expiresAt: string; lastUsedAt: string; createdAt: string }[]).find(
    (session) => session.id === sessionId,
  );
}

let db: pg.Pool;
beforeAll(() => {
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
});
afterAll(() => db.end());

const expiresAtInDb = async (sessionId: string) =>
  (await db.query<{ expires_at: Date }>('SELECT expires_at FROM auth_sessions WHERE id = $1', [sessionId])).rows[0].expires_at.getTime();

describe('absolute lifetime (REFRESH_TOKEN_TTL=3, REFRESH_IDLE_TTL=100)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...BASE_ENV, REFRESH_TOKEN_TTL: '3', REFRESH_IDLE_TTL: '100' });
  });
  afterAll(() => app.close());

  it('is never extended by rotation, and ends the session when it passes', async () => {
    const first = await registerAndLogin(app, 'absolute');
    const listed = await listedSession(app, first.accessToken, first.sessionId);
    expect(listed).toBeDefined();
    const expiresAt = listed!.expiresAt;
    expect(Date.parse(expiresAt) - Date.parse(listed!.createdAt)).toBe(3000);
    expect(first.refreshTokenExpiresIn).toBe(3); // the absolute end, not the much longer idle limit

    let current: Tokens = first;
    const expiresIn = [first.refreshTokenExpiresIn];
    for (const pause of [0, 1100]) {
      await sleep(pause);
      current = expectRotated(await refresh(app, current.refreshToken), first.sessionId);
      expiresIn.push(current.refreshTokenExpiresIn);
      expect((await listedSession(app, current.accessToken, first.sessionId))?.expiresAt).toBe(expiresAt);
      expect(await expiresAtInDb(first.sessionId)).toBe(Date.parse(expiresAt));
    }
    // What is left only ever shrinks: 3, then at most 2 just after login, then at most 1 a second later.
    expect(expiresIn[1]).toBeLessThanOrEqual(2);
    expect(expiresIn[2]).toBeLessThanOrEqual(1);
    expect(expiresIn[2]).toBeGreaterThanOrEqual(0);

    await sleepUntil(Date.parse(expiresAt) + 200);
    expectRefused(await refresh(app, current.refreshToken), 'refresh_token_expired');
    // The session is gone from the list too (asked through a new session, which has its own 3 s).
    const fresh = await login(app, first.email);
    expect(await listedSession(app, fresh.accessToken, first.sessionId)).toBeUndefined();
    expect(await listedSession(app, fresh.accessToken, fresh.sessionId)).toBeDefined();
  });
});

describe('idle lifetime (REFRESH_IDLE_TTL=2)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...BASE_ENV, REFRESH_IDLE_TTL: '2' });
  });
  afterAll(() => app.close());

  it('is renewed by use and ends a session left unused longer', async () => {
    const used = await registerAndLogin(app, 'idle');
    const unused = await login(app, used.email);
    expect(used.refreshTokenExpiresIn).toBe(2);
    const loggedIn = Date.now();

    await sleep(1000);
    let current = expectRotated(await refresh(app, used.refreshToken), used.sessionId);
    expect(current.refreshTokenExpiresIn).toBe(2);

    // Over 2 s since login: the session never used since is dead, the one used at 1 s is not.
    await sleepUntil(loggedIn + 2300);
    expectRefused(await refresh(app, unused.refreshToken), 'refresh_token_expired');
    current = expectRotated(await refresh(app, current.refreshToken), used.sessionId);
    const listed = await app.request('GET', '/auth/sessions', { token: current.accessToken });
    expect(listed.body.map((session: { id: string }) => session.id)).toEqual([used.sessionId]);

    await sleep(2200);
    expectRefused(await refresh(app, current.refreshToken), 'refresh_token_expired');
  });
});

describe('access-token lifetime (ACCESS_TOKEN_TTL=1, JWT_CLOCK_SKEW=0)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...BASE_ENV, ACCESS_TOKEN_TTL: '1', JWT_CLOCK_SKEW: '0' });
  });
  afterAll(() => app.close());

  const claimsOf = (accessToken: string) =>
    JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as { iat: number; exp: number };

  /**
   * Logs in early in a wall-clock second: `exp` is `iat` (whole seconds) plus 1, so a token issued late
   * in a second would have only milliseconds to live. Retries when the login itself ran late.
   */
  async function loginEarlyInASecond(email: string): Promise<Tokens> {
    for (let attempt = 0; ; attempt++) {
      await sleep(1000 - (Date.now() % 1000) + 10);
      const tokens = await login(app, email);
      if (Date.now() < claimsOf(tokens.accessToken).exp * 1000 - 300 || attempt === 4) return tokens;
    }
  }

  it('accepts the token until it expires, then refuses it as token_expired with a Bearer challenge', async () => {
    const { email } = await registerAndLogin(app, 'access-expiry');
    const tokens = await loginEarlyInASecond(email);
    const { iat, exp } = claimsOf(tokens.accessToken);
    expect(exp - iat).toBe(1);
    expect(tokens.expiresIn).toBe(1);

    expect((await app.request('GET', '/users/me', { token: tokens.accessToken })).status).toBe(200);

    await sleepUntil(exp * 1000 + 1200);
    for (const path of ['/users/me', '/auth/claims', '/auth/sessions']) {
      const response = await app.request('GET', path, { token: tokens.accessToken });
      expectRefused(response, 'token_expired');
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }

    // The session outlives its access token: the refresh token gets a new one that works. (We are
    // 0.2 s into a second here, so the new token, too, has most of its second to live.)
    const renewed = expectRotated(await refresh(app, tokens.refreshToken), tokens.sessionId);
    const me = await app.request('GET', '/users/me', { token: renewed.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email);
  });
});
