import pg from 'pg';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, registerAndLogin } from './support/users.js';

// SESSIONS_PER_USER_MAX (API.md): a login past the cap revokes the user's least recently used live
// session, as a logout would — its access token included — and concurrent logins never overshoot.
const CAP = 3;

let app: TestApp;
let db: pg.Pool;

beforeAll(async () => {
  app = await startTestApp({ SESSIONS_PER_USER_MAX: String(CAP) });
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
});
afterAll(async () => {
  await app.close();
  await db.end();
});

const liveSessionIds = async (userId: string) =>
  (await db.query<{ id: string }>('SELECT id FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL', [userId])).rows.map(
    (row) => row.id,
  );

describe('sessions per user', () => {
  it('a login past the cap ends the least recently used session, its access and refresh tokens at once', async () => {
    const first = await registerAndLogin(app, 'cap');
    const second = await login(app, first.email);
    const third = await login(app, first.email);
    // Using the first session makes the second the least recently used.
    const firstRotated = await app.request('POST', '/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(firstRotated.status).toBe(200);

    const fourth = await login(app, first.email);

    expect((await app.request('GET', '/users/me', { token: second.accessToken })).body.code).toBe('session_revoked');
    const secondRefresh = await app.request('POST', '/auth/refresh', { body: { refreshToken: second.refreshToken } });
    expect({ status: secondRefresh.status, code: secondRefresh.body.code }).toEqual({ status: 401, code: 'session_revoked' });
    for (const alive of [firstRotated.body.accessToken, third.accessToken, fourth.accessToken]) {
      expect((await app.request('GET', '/users/me', { token: alive })).status).toBe(200);
    }
    const listed = await app.request('GET', '/auth/sessions', { token: fourth.accessToken });
    expect(listed.body.map((session: { id: string }) => session.id).sort()).toEqual(
      [first.sessionId, third.sessionId, fourth.sessionId].sort(),
    );
    const { rows } = await db.query('SELECT revoked_reason FROM auth_sessions WHERE id = $1', [second.sessionId]);
    expect(rows).toEqual([{ revoked_reason: 'session_limit' }]);
  });

  it('many concurrent logins leave exactly the cap of live sessions, the newest among them', async () => {
    const { email, userId } = await registerAndLogin(app, 'cap-burst');
    const logins = await Promise.all(Array.from({ length: 12 }, () => login(app, email)));
    const live = await liveSessionIds(userId);
    expect(live).toHaveLength(CAP);
    // Every live session belongs to one of the logins, and every login's own answer was a working pair at the time.
    const issued = new Set(logins.map((pair) => pair.sessionId));
    for (const id of live) expect(issued.has(id)).toBe(true);
    const survivors = logins.filter((pair) => live.includes(pair.sessionId));
    for (const pair of survivors) expect((await app.request('GET', '/users/me', { token: pair.accessToken })).status).toBe(200);
  });
});
