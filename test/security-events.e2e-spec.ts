import pg from 'pg';
import { type AuthEvent, AuthEvents } from '../src/auth/index.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

// API.md "Operating it": the flows themselves emit the security events — in process to subscribers,
// and into auth_events — with the account and the client, and never a password, token or email typed.
const USER_AGENT = 'security-events-test/1.0';

let app: TestApp;
let db: pg.Pool;
let events: AuthEvents;
const seen: AuthEvent[] = [];

beforeAll(async () => {
  // A one-second grace, so a replay can be made to count as reuse.
  app = await startTestApp({ REFRESH_REUSE_GRACE: '1' });
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  events = app.app.get(AuthEvents);
  events.subscribe((event) => void seen.push(event));
});
afterAll(async () => {
  await app.close();
  await db.end();
});

const request = (method: string, path: string, options: { body?: unknown; token?: string } = {}) =>
  app.request(method, path, { ...options, headers: { 'user-agent': USER_AGENT } });
const ofUser = (userId: string) => seen.filter((event) => event.userId === userId).map((event) => [event.type, event.detail.reason ?? null]);

describe('security events of the flows', () => {
  it('login failed and succeeded, with the account and the client, never the email typed', async () => {
    const { email, userId } = await registerAndLogin(app, 'events-login');
    const unknown = uniqueEmail('nobody');
    expect((await request('POST', '/auth/login', { body: { email: unknown, password: PASSWORD } })).status).toBe(401);
    expect((await request('POST', '/auth/login', { body: { email, password: 'wrong password!' } })).status).toBe(401);
    const ok = await request('POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(ok.status).toBe(200);

    const failedUnknown = seen.find((event) => event.type === 'login_failed' && event.detail.reason === 'unknown_email' && event.userAgent === USER_AGENT);
    expect(failedUnknown).toMatchObject({ userId: null, ip: expect.any(String) });
    expect(JSON.stringify(seen)).not.toContain(unknown);
    expect(seen.find((event) => event.type === 'login_failed' && event.userId === userId)?.detail).toEqual({ reason: 'wrong_password' });
    expect(seen.find((event) => event.type === 'login_succeeded' && event.sessionId === ok.body.sessionId)).toMatchObject({
      userId,
      userAgent: USER_AGENT,
    });
  });

  it('reuse detected, then the session revoked for it; logout and password change revoke with their reason', async () => {
    const owner = await registerAndLogin(app, 'events-reuse');
    const rotated = await request('POST', '/auth/refresh', { body: { refreshToken: owner.refreshToken } });
    expect(rotated.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await request('POST', '/auth/refresh', { body: { refreshToken: owner.refreshToken } })).body.code).toBe('refresh_token_reused');

    const other = await login(app, owner.email);
    const third = await login(app, owner.email);
    expect((await request('POST', '/auth/logout', { token: other.accessToken })).status).toBe(204);
    const changed = await request('POST', '/auth/password', {
      token: third.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'another good password' },
    });
    expect(changed.status).toBe(204);

    expect(ofUser(owner.userId)).toEqual(
      expect.arrayContaining([
        ['refresh_reuse_detected', null],
        ['session_revoked', 'reuse'],
        ['session_revoked', 'logout'],
        ['password_changed', null],
      ]),
    );
    const reuse = seen.find((event) => event.type === 'refresh_reuse_detected' && event.sessionId === owner.sessionId);
    expect(reuse).toMatchObject({ userId: owner.userId, userAgent: USER_AGENT });

    // The same events reach auth_events, and no row holds a password, a token or a hash.
    await events.flush();
    const { rows } = await db.query<{ type: string; detail: Record<string, unknown> }>(
      'SELECT type, detail, row_to_json(e)::text AS row FROM auth_events e WHERE user_id = $1 ORDER BY id',
      [owner.userId],
    );
    expect(rows.map((row) => row.type)).toEqual(expect.arrayContaining(['login_succeeded', 'refresh_reuse_detected', 'session_revoked', 'password_changed']));
    const text = JSON.stringify(rows);
    for (const secret of [PASSWORD, 'another good password', owner.refreshToken, owner.accessToken, rotated.body.refreshToken]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/\$argon2/);
  });
});
