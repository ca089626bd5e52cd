import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin } from './support/users.js';

// Listing and revoking sessions (API.md "Endpoints" and "Logout and revocation"), over real HTTP on the
// real database. Rate limiting is off: some tests log one user in many times at once.
type Tokens = Awaited<ReturnType<typeof login>>;

const refresh = (app: TestApp, refreshToken: string) => app.request('POST', '/auth/refresh', { body: { refreshToken } });
const me = (app: TestApp, accessToken: string) => app.request('GET', '/users/me', { token: accessToken });
const listSessions = (app: TestApp, accessToken: string) => app.request('GET', '/auth/sessions', { token: accessToken });
const deleteSession = (app: TestApp, accessToken: string, id: string) =>
  app.request('DELETE', `/auth/sessions/${id}`, { token: accessToken });

let db: pg.Pool;
let app: TestApp;

beforeAll(async () => {
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 4 });
  app = await startTestApp({ RATE_LIMIT: 'off' });
});
afterAll(async () => {
  await app.close();
  await db.end();
});

/** A user with `count` sessions (logged in one after another, each with its own User-Agent). */
async function userWithSessions(label: string, count: number) {
  const first = await registerAndLogin(app, label);
  const sessions: Tokens[] = [first];
  for (let index = 1; index < count; index++) sessions.push(await login(app, first.email));
  return { email: first.email, userId: first.userId, sessions };
}

function expectRefused(response: TestResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
}

/** Both halves of the session work: the access token on a protected route, the refresh token on /auth/refresh. */
async function expectAlive(session: Tokens): Promise<Tokens> {
  expect((await me(app, session.accessToken)).status).toBe(200);
  const rotated = await refresh(app, session.refreshToken);
  expect(rotated.status).toBe(200);
  expect(rotated.body.sessionId).toBe(session.sessionId);
  return rotated.body as Tokens;
}

/** Both halves are refused at once with session_revoked. */
async function expectRevoked(session: Tokens): Promise<void> {
  const bearer = await me(app, session.accessToken);
  expectRefused(bearer, 401, 'session_revoked');
  expect(bearer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  expectRefused(await refresh(app, session.refreshToken), 401, 'session_revoked');
}

async function revokedReasons(sessionIds: string[]): Promise<Map<string, string | null>> {
  const { rows } = await db.query<{ id: string; revoked_reason: string | null }>(
    'SELECT id, revoked_reason FROM auth_sessions WHERE id = ANY($1::uuid[])',
    [sessionIds],
  );
  return new Map(rows.map((row) => [row.id, row.revoked_reason]));
}

describe('GET /auth/sessions', () => {
  it("lists the caller's live sessions, marks the caller's own as current and holds no token material", async () => {
    const email = (await registerAndLogin(app, 'list')).email;
    // The session registerAndLogin made, then two more from named clients.
    const agents = ['Firefox on the laptop', 'Safari on the phone'];
    const named: Tokens[] = [];
    for (const agent of agents) {
      const response = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD }, headers: { 'user-agent': agent } });
      expect(response.status).toBe(200);
      named.push(response.body);
    }
    const stranger = await registerAndLogin(app, 'list-stranger');

    const response = await listSessions(app, named[0].accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toHaveLength(3);
    for (const session of response.body) {
      expect(Object.keys(session).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      for (const field of ['createdAt', 'lastUsedAt', 'expiresAt']) {
        expect(new Date(session[field]).toISOString()).toBe(session[field]);
      }
      expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.parse(session.lastUsedAt));
      expect(Date.parse(session.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(session.createdAt));
      expect(session.ip).toBe('127.0.0.1');
    }
    expect(response.body.filter((session: { current: boolean }) => session.current).map((session: { id: string }) => session.id)).toEqual([
      named[0].sessionId,
    ]);
    const byId = new Map<string, { userAgent: string }>(response.body.map((session: { id: string }) => [session.id, session]));
    expect(byId.get(named[0].sessionId)?.userAgent).toBe(agents[0]);
    expect(byId.get(named[1].sessionId)?.userAgent).toBe(agents[1]);
    expect(byId.has(stranger.sessionId)).toBe(false);

    const text = JSON.stringify(response.body);
    for (const tokens of [...named, stranger]) {
      expect(text).not.toContain(tokens.refreshToken);
      expect(text).not.toContain(tokens.accessToken);
    }
    expect(text).not.toMatch(/token|hash/i);

    // Whichever session asks, it is the one marked current.
    const fromOther = await listSessions(app, named[1].accessToken);
    expect(fromOther.body.find((session: { current: boolean }) => session.current).id).toBe(named[1].sessionId);
  });

  it('leaves out revoked sessions', async () => {
    const { sessions } = await userWithSessions('list-revoked', 3);
    expect((await app.request('POST', '/auth/logout', { token: sessions[1].accessToken })).status).toBe(204);

    const response = await listSessions(app, sessions[0].accessToken);
    expect(response.status).toBe(200);
    expect(response.body.map((session: { id: string }) => session.id).sort()).toEqual(
      [sessions[0].sessionId, sessions[2].sessionId].sort(),
    );
  });

  it('needs a Bearer token', async () => {
    const response = await app.request('GET', '/auth/sessions');
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('token_invalid');
  });
});

describe('DELETE /auth/sessions/:id', () => {
  it("ends the caller's other session at once, access and refresh token alike, and leaves the caller's working", async () => {
    const { sessions } = await userWithSessions('delete-own', 2);
    const [caller, target] = sessions;

    const response = await deleteSession(app, caller.accessToken, target.sessionId);
    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();

    await expectRevoked(target);
    const rotated = await expectAlive(caller);
    const list = await listSessions(app, rotated.accessToken);
    expect(list.body.map((session: { id: string }) => session.id)).toEqual([caller.sessionId]);
    expect((await revokedReasons([target.sessionId])).get(target.sessionId)).toBe('deleted');

    // Deleting it again: it is no longer one of the caller's live sessions.
    expectRefused(await deleteSession(app, rotated.accessToken, target.sessionId), 404, 'session_not_found');
  });

  it("ends the caller's own current session too", async () => {
    const { sessions } = await userWithSessions('delete-current', 2);
    expect((await deleteSession(app, sessions[0].accessToken, sessions[0].sessionId)).status).toBe(204);
    await expectRevoked(sessions[0]);
    await expectAlive(sessions[1]);
  });

  it("answers 404 for another user's session and leaves that session working", async () => {
    const attacker = await registerAndLogin(app, 'delete-attacker');
    const victim = await registerAndLogin(app, 'delete-victim');

    const response = await deleteSession(app, attacker.accessToken, victim.sessionId);
    expectRefused(response, 404, 'session_not_found');
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String), code: 'session_not_found' });

    await expectAlive(victim);
    expect((await revokedReasons([victim.sessionId])).get(victim.sessionId)).toBeNull();
    await expectAlive(attacker);
  });

  it('answers 404 for an unknown session id and for one that is not a uuid', async () => {
    const caller = await registerAndLogin(app, 'delete-unknown');
    expectRefused(await deleteSession(app, caller.accessToken, randomUUID()), 404, 'session_not_found');
    expectRefused(await deleteSession(app, caller.accessToken, 'not-a-uuid'), 404, 'session_not_found');
    expectRefused(await deleteSession(app, caller.accessToken, `${caller.sessionId}x`), 404, 'session_not_found');
    await expectAlive(caller);
  });

  it('needs a Bearer token', async () => {
    const victim = await registerAndLogin(app, 'delete-anonymous');
    const response = await app.request('DELETE', `/auth/sessions/${victim.sessionId}`);
    expect(response.status).toBe(401);
    await expectAlive(victim);
  });
});

describe('POST /auth/logout and /auth/logout-all', () => {
  it('logout with a Bearer token ends that session only', async () => {
    const { sessions } = await userWithSessions('logout-bearer', 2);
    expect((await app.request('POST', '/auth/logout', { token: sessions[0].accessToken })).status).toBe(204);
    await expectRevoked(sessions[0]);
    await expectAlive(sessions[1]);
  });

  it('logout with a refresh token ends that session only', async () => {
    const { sessions } = await userWithSessions('logout-refresh', 2);
    const response = await app.request('POST', '/auth/logout', { body: { refreshToken: sessions[0].refreshToken } });
    expect(response.status).toBe(204);
    await expectRevoked(sessions[0]);
    await expectAlive(sessions[1]);
  });

  it("logout-all ends every session of the user, access and refresh tokens, and no other user's", async () => {
    const { email, sessions } = await userWithSessions('logout-all', 4);
    const bystander = await registerAndLogin(app, 'logout-all-bystander');

    const response = await app.request('POST', '/auth/logout-all', { token: sessions[2].accessToken });
    expect(response.status).toBe(204);

    for (const session of sessions) await expectRevoked(session);
    const reasons = await revokedReasons(sessions.map((session) => session.sessionId));
    expect([...reasons.values()]).toEqual(sessions.map(() => 'logout_all'));
    await expectAlive(bystander);

    // Logging in again starts afresh: one session listed.
    const fresh = await login(app, email);
    const list = await listSessions(app, fresh.accessToken);
    expect(list.body.map((session: { id: string }) => session.id)).toEqual([fresh.sessionId]);
  });
});

describe('POST /auth/password', () => {
  it('ends every other session of the user and keeps the current one working', async () => {
    const { email, sessions } = await userWithSessions('password', 3);
    const bystander = await registerAndLogin(app, 'password-bystander');
    const current = sessions[1];
    const newPassword = 'a brand new passphrase';

    const response = await app.request('POST', '/auth/password', {
      token: current.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    expect(response.status).toBe(204);

    await expectRevoked(sessions[0]);
    await expectRevoked(sessions[2]);
    const rotated = await expectAlive(current);
    const list = await listSessions(app, rotated.accessToken);
    expect(list.body.map((session: { id: string }) => session.id)).toEqual([current.sessionId]);
    await expectAlive(bystander);

    expectRefused(await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } }), 401, 'invalid_credentials');
    await login(app, email, newPassword);
  });

  it('revokes nothing when the current password is wrong', async () => {
    const { sessions } = await userWithSessions('password-wrong', 2);
    const response = await app.request('POST', '/auth/password', {
      token: sessions[0].accessToken,
      body: { currentPassword: 'not the password', newPassword: 'a brand new passphrase' },
    });
    expectRefused(response, 401, 'invalid_credentials');
    for (const session of sessions) await expectAlive(session);
  });
});

describe('many revocations at once', () => {
  it('ends all of 10 sessions under concurrent DELETEs of each and a logout-all, with no server error', async () => {
    const { sessions } = await userWithSessions('storm', 10);
    const bystander = await registerAndLogin(app, 'storm-bystander');
    const [caller, ...others] = sessions;

    // The caller deletes each other session while each of those deletes the next one, and the caller
    // logs everything out. Only its own logout-all ends the caller, so that one always gets through.
    const logoutAll = app.request('POST', '/auth/logout-all', { token: caller.accessToken });
    const responses = await Promise.all([
      ...others.map((session) => deleteSession(app, caller.accessToken, session.sessionId)),
      ...others.map((session, index) => deleteSession(app, session.accessToken, others[(index + 1) % others.length].sessionId)),
    ]);
    expect((await logoutAll).status).toBe(204);

    // Whichever ran first wins; the rest find the session already gone (404) or their own caller revoked (401).
    for (const response of responses) {
      expect([204, 401, 404]).toContain(response.status);
      if (response.status !== 204) expect(['session_revoked', 'session_not_found']).toContain(response.body.code);
    }

    const reasons = await revokedReasons(sessions.map((session) => session.sessionId));
    expect(reasons.get(caller.sessionId)).toBe('logout_all');
    for (const session of others) expect(['deleted', 'logout_all']).toContain(reasons.get(session.sessionId));
    for (const session of sessions) await expectRevoked(session);
    await expectAlive(bystander);
  });

  it('loses no revocation to refreshes racing it: every token a racing refresh handed out is dead afterwards', async () => {
    const { sessions } = await userWithSessions('race', 6);
    const bystander = await registerAndLogin(app, 'race-bystander');

    const refreshes = sessions.flatMap((session) => [refresh(app, session.refreshToken), refresh(app, session.refreshToken)]);
    // Only the logout-all ends sessions[0], so it always gets through and every session ends revoked.
    const revocations = [
      ...sessions.slice(1).map((session) => deleteSession(app, sessions[0].accessToken, session.sessionId)),
      app.request('POST', '/auth/logout-all', { token: sessions[0].accessToken }),
    ];
    const [refreshed, revoked] = await Promise.all([Promise.all(refreshes), Promise.all(revocations)]);

    for (const response of [...refreshed, ...revoked]) expect(response.status).toBeLessThan(500);
    for (const response of refreshed) {
      if (response.status !== 200) expectRefused(response, 401, 'session_revoked');
    }
    const handedOut = refreshed.filter((response) => response.status === 200).map((response) => response.body as Tokens);
    for (const tokens of [...sessions, ...handedOut]) await expectRevoked(tokens);
    const { rows } = await db.query('SELECT id FROM auth_sessions WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL', [
      sessions.map((session) => session.sessionId),
    ]);
    expect(rows).toEqual([]);
    await expectAlive(bystander);
  });
});
