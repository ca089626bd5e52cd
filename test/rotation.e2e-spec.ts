import pg from 'pg';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { login, registerAndLogin } from './support/users.js';

// Rotation and reuse detection (API.md "Rotation and reuse detection"), over real HTTP on the real
// database. Rate limiting is off: these tests fire bursts on purpose and are not about the limiter.
// The pool is larger than the largest burst, so requests queued on one family's lock never starve the rest.
const BASE_ENV = { RATE_LIMIT: 'off', DB_POOL_SIZE: '40' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const refresh = (app: TestApp, refreshToken: string) => app.request('POST', '/auth/refresh', { body: { refreshToken } });
const me = (app: TestApp, accessToken: string) => app.request('GET', '/users/me', { token: accessToken });

let db: pg.Pool;

beforeAll(() => {
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 4 });
});
afterAll(() => db.end());

async function sessionRow(sessionId: string) {
  const { rows } = await db.query<{ generation: number; rotations: Date[]; revoked_at: Date | null; revoked_reason: string | null }>(
    'SELECT generation, rotations, revoked_at, revoked_reason FROM auth_sessions WHERE id = $1',
    [sessionId],
  );
  return rows[0];
}

/**
 * The family rotated exactly `rotations` times: its one active token is of that generation (a
 * family has one generation column, so two active tokens cannot exist), and its record of recent
 * rotation times (those within the grace, and the latest) is newest first and no longer than that.
 */
async function expectRotations(sessionId: string, rotations: number): Promise<void> {
  const row = await sessionRow(sessionId);
  expect(row.generation).toBe(rotations);
  expect(row.rotations.length).toBeLessThanOrEqual(rotations);
  if (rotations > 0) expect(row.rotations.length).toBeGreaterThan(0);
  const times = row.rotations.map((time) => time.getTime());
  expect(times).toEqual([...times].sort((x, y) => y - x));
}

/**
 * Fires `requests` while the test itself holds the family's row lock, and lets go only once they are
 * all queued behind it (or after a few seconds, should an implementation serialise on something
 * else). Requests fired together over HTTP may still reach the database one by one; this makes
 * them truly overlap, so a rotation that is not serialised shows up every time.
 */
async function withFamilyHeld<T>(sessionId: string, requests: number, fire: () => Promise<T>): Promise<T> {
  const holder = await db.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM auth_sessions WHERE id = $1 FOR UPDATE', [sessionId]);
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pending = fire();
    pending.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const deadline = Date.now() + 5000;
    while ((await waitingBehind(rows[0].pid)) < requests && Date.now() < deadline) await sleep(20);
    await holder.query('COMMIT');
    return await pending;
  } finally {
    holder.release();
  }
}

/** How many backends wait, directly or through another waiter, on the backend `pid`. */
async function waitingBehind(pid: number): Promise<number> {
  const { rows } = await db.query<{ waiting: number }>(
    `WITH RECURSIVE blocked(pid) AS (
       SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))
       UNION
       SELECT activity.pid FROM pg_stat_activity activity JOIN blocked ON blocked.pid = ANY(pg_blocking_pids(activity.pid))
     )
     SELECT count(*)::int AS waiting FROM blocked`,
    [pid],
  );
  return rows[0].waiting;
}

function expectTokenPair(response: TestResponse, sessionId: string): void {
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    accessToken: expect.any(String),
    tokenType: 'Bearer',
    expiresIn: expect.any(Number),
    refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{70}$/),
    refreshTokenExpiresIn: expect.any(Number),
    sessionId,
  });
}

function expectRefused(response: TestResponse, code: string): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code });
}

async function expectSessionRevokedForBearer(app: TestApp, accessToken: string): Promise<void> {
  const response = await me(app, accessToken);
  expectRefused(response, 'session_revoked');
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
}

describe('rotation (default reuse grace of 10 s)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(BASE_ENV);
  });
  afterAll(() => app.close());

  it('returns a new refresh token and a new access token of the same session, the family growing by nothing but its generation', async () => {
    const first = await registerAndLogin(app, 'rotate');
    const response = await refresh(app, first.refreshToken);

    expectTokenPair(response, first.sessionId);
    expect(response.body.refreshToken).not.toBe(first.refreshToken);
    expect(response.body.accessToken).not.toBe(first.accessToken);
    expect(response.headers.get('cache-control')).toBe('no-store');

    const claims = await app.request('GET', '/auth/claims', { token: response.body.accessToken });
    expect(claims.status).toBe(200);
    expect(claims.body.sid).toBe(first.sessionId);
    expect(claims.body.sub).toBe(first.userId);

    await expectRotations(first.sessionId, 1);

    // The successor is the active token: it rotates in turn.
    const next = await refresh(app, response.body.refreshToken);
    expectTokenPair(next, first.sessionId);
    expect(next.body.refreshToken).not.toBe(response.body.refreshToken);
    await expectRotations(first.sessionId, 2);
  });

  it('answers the old token within the grace with the current token, the very same string every time, minting nothing', async () => {
    const { refreshToken: t0, sessionId } = await registerAndLogin(app, 'grace');
    const rotated = await refresh(app, t0);
    expectTokenPair(rotated, sessionId);
    const t1 = rotated.body.refreshToken as string;

    const accessTokens = new Set<string>([rotated.body.accessToken]);
    for (let retry = 0; retry < 3; retry++) {
      const again = await refresh(app, t0);
      expectTokenPair(again, sessionId);
      expect(again.body.refreshToken).toBe(t1);
      accessTokens.add(again.body.accessToken);
      expect((await me(app, again.body.accessToken)).status).toBe(200);
    }
    expect(accessTokens.size).toBe(4); // a fresh access token each time
    await expectRotations(sessionId, 1);
    expect((await sessionRow(sessionId)).revoked_at).toBeNull();

    // The current token was not consumed by those retries: it rotates normally...
    const second = await refresh(app, t1);
    expectTokenPair(second, sessionId);
    const t2 = second.body.refreshToken as string;
    expect([t0, t1]).not.toContain(t2);
    // ...and a token two generations back, still within its grace, now gets the new current token.
    const late = await refresh(app, t0);
    expectTokenPair(late, sessionId);
    expect(late.body.refreshToken).toBe(t2);
    await expectRotations(sessionId, 2);
  });

  it('answers a token rotated many times since, still within its grace, with the current token', async () => {
    const { refreshToken: t0, sessionId } = await registerAndLogin(app, 'many');
    let current = t0;
    for (let rotation = 0; rotation < 12; rotation++) current = (await refresh(app, current)).body.refreshToken;
    const late = await refresh(app, t0);
    expectTokenPair(late, sessionId);
    expect(late.body.refreshToken).toBe(current);
    await expectRotations(sessionId, 12);
  });

  it('keeps one row per session, bounded, however many times it rotates', async () => {
    const { refreshToken, sessionId } = await registerAndLogin(app, 'bounded');
    let current = refreshToken;
    for (let rotation = 0; rotation < 200; rotation++) {
      const response = await refresh(app, current);
      expect(response.status).toBe(200);
      current = response.body.refreshToken;
    }
    await expectRotations(sessionId, 200);
    const { rows } = await db.query<{ rows: number; kept: number }>(
      'SELECT count(*)::int AS rows, max(cardinality(rotations))::int AS kept FROM auth_sessions WHERE id = $1',
      [sessionId],
    );
    expect(rows[0].rows).toBe(1);
    expect(rows[0].kept).toBeLessThanOrEqual(64);
    expectTokenPair(await refresh(app, current), sessionId);
  });

  it('refuses an unknown or malformed token as invalid, touching no family', async () => {
    const { refreshToken, sessionId } = await registerAndLogin(app, 'unknown');
    const unknown = await refresh(app, `${refreshToken.slice(0, -1)}${refreshToken.endsWith('A') ? 'B' : 'A'}`);
    expectRefused(unknown, 'refresh_token_invalid');
    expectRefused(await refresh(app, 'not-a-refresh-token'), 'refresh_token_invalid');
    await expectRotations(sessionId, 0);
    expectTokenPair(await refresh(app, refreshToken), sessionId);
  });

  it('converges 20 concurrent refreshes of one token on one rotation with one successor', async () => {
    const { refreshToken: t0, sessionId } = await registerAndLogin(app, 'burst');
    const responses = await withFamilyHeld(sessionId, 20, () => Promise.all(Array.from({ length: 20 }, () => refresh(app, t0))));

    responses.forEach((response) => expectTokenPair(response, sessionId));
    const successors = new Set(responses.map((response) => response.body.refreshToken));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).not.toBe(t0);
    expect(new Set(responses.map((response) => response.body.accessToken)).size).toBe(20);

    await expectRotations(sessionId, 1);
    expect((await sessionRow(sessionId)).revoked_at).toBeNull();
    expectTokenPair(await refresh(app, successor), sessionId);
  });

  it('serialises concurrent presentations of the active token and of its predecessor without a branch', async () => {
    const { refreshToken: t0, sessionId } = await registerAndLogin(app, 'mixed');
    const t1 = (await refresh(app, t0)).body.refreshToken as string;

    const presented = Array.from({ length: 20 }, (_, index) => (index % 2 ? t0 : t1));
    const responses = await withFamilyHeld(sessionId, 20, () => Promise.all(presented.map((token) => refresh(app, token))));

    responses.forEach((response) => expectTokenPair(response, sessionId));
    // t1 is rotated exactly once, into t2; every other answer is the current token at its turn (t1 or t2).
    const answers = new Set(responses.map((response) => response.body.refreshToken));
    const forT1 = new Set(responses.filter((_, index) => presented[index] === t1).map((response) => response.body.refreshToken));
    expect(forT1.size).toBe(1);
    const [t2] = forT1;
    expect([t0, t1]).not.toContain(t2);
    for (const answer of answers) expect([t1, t2]).toContain(answer);

    await expectRotations(sessionId, 2);
    expectTokenPair(await refresh(app, t2), sessionId);
  });

  it('keeps concurrent refreshes of different sessions apart', async () => {
    const users = await Promise.all([registerAndLogin(app, 'apart-a'), registerAndLogin(app, 'apart-b')]);
    const sessions = [...users];
    for (const user of users) {
      for (let extra = 0; extra < 3; extra++) sessions.push({ ...user, ...(await login(app, user.email)) });
    }
    const perSession = 5;

    const responses = await Promise.all(
      sessions.flatMap((session) => Array.from({ length: perSession }, () => refresh(app, session.refreshToken))),
    );

    const successors = sessions.map((session, index) => {
      const mine = responses.slice(index * perSession, (index + 1) * perSession);
      mine.forEach((response) => expectTokenPair(response, session.sessionId));
      const distinct = new Set(mine.map((response) => response.body.refreshToken));
      expect(distinct.size).toBe(1);
      return [...distinct][0] as string;
    });
    expect(new Set(successors).size).toBe(sessions.length);

    const ids = sessions.map((session) => session.sessionId);
    for (const id of ids) await expectRotations(id, 1);
    const next = await Promise.all(successors.map((successor) => refresh(app, successor)));
    next.forEach((response, index) => expectTokenPair(response, ids[index]));
  });
});

describe('reuse detection (REFRESH_REUSE_GRACE=1)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...BASE_ENV, REFRESH_REUSE_GRACE: '1' });
  });
  afterAll(() => app.close());

  it('revokes the whole family, access tokens included, when an old token comes back after the grace', async () => {
    const victim = await registerAndLogin(app, 'reuse');
    const other = await login(app, victim.email);
    const rotated = await refresh(app, victim.refreshToken);
    expectTokenPair(rotated, victim.sessionId);
    const t1 = rotated.body.refreshToken as string;

    // Within the grace the same token is a retry...
    const retry = await refresh(app, victim.refreshToken);
    expectTokenPair(retry, victim.sessionId);
    expect(retry.body.refreshToken).toBe(t1);

    await sleep(1200);
    // ...after it, reuse.
    const reused = await refresh(app, victim.refreshToken);
    expectRefused(reused, 'refresh_token_reused');
    expect(reused.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String), code: 'refresh_token_reused' });
    expect(JSON.stringify(reused.body)).not.toContain(victim.refreshToken);

    expectRefused(await refresh(app, t1), 'session_revoked');
    for (const accessToken of [victim.accessToken, rotated.body.accessToken, retry.body.accessToken]) {
      await expectSessionRevokedForBearer(app, accessToken);
    }
    expect(await sessionRow(victim.sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: 'reuse' });
    await expectRotations(victim.sessionId, 1); // the refused refreshes minted nothing

    // The user's other session is untouched.
    expect((await me(app, other.accessToken)).status).toBe(200);
    const otherRotated = await refresh(app, other.refreshToken);
    expectTokenPair(otherRotated, other.sessionId);
    const list = await app.request('GET', '/auth/sessions', { token: otherRotated.body.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.map((session: { id: string }) => session.id)).toEqual([other.sessionId]);
  });

  it('treats a token two generations back, after the grace, as reuse at the end of a chain of rotations', async () => {
    const { refreshToken, sessionId, accessToken } = await registerAndLogin(app, 'chain');
    const chain = [refreshToken];
    const accessTokens = [accessToken];
    for (let step = 0; step < 6; step++) {
      const response = await refresh(app, chain[chain.length - 1]);
      expectTokenPair(response, sessionId);
      chain.push(response.body.refreshToken);
      accessTokens.push(response.body.accessToken);
    }
    expect(new Set(chain).size).toBe(7);
    await expectRotations(sessionId, 6);

    await sleep(1200);
    const current = chain[6];
    expectRefused(await refresh(app, chain[4]), 'refresh_token_reused');
    expectRefused(await refresh(app, current), 'session_revoked');
    for (const token of accessTokens) await expectSessionRevokedForBearer(app, token);
    expect(await sessionRow(sessionId)).toMatchObject({ revoked_reason: 'reuse' });
    await expectRotations(sessionId, 6);
  });

  it('answers every replay after the grace as reuse, however many arrive at once', async () => {
    const { refreshToken: t0, sessionId, accessToken } = await registerAndLogin(app, 'replays');
    const rotated = await refresh(app, t0);
    expectTokenPair(rotated, sessionId);
    await sleep(1200);

    const responses = await withFamilyHeld(sessionId, 10, () => Promise.all(Array.from({ length: 10 }, () => refresh(app, t0))));
    responses.forEach((response) => expectRefused(response, 'refresh_token_reused'));
    expectRefused(await refresh(app, rotated.body.refreshToken), 'session_revoked');
    await expectSessionRevokedForBearer(app, accessToken);
    await expectSessionRevokedForBearer(app, rotated.body.accessToken);
    await expectRotations(sessionId, 1);
  });
});

describe('strict mode (REFRESH_REUSE_GRACE=0)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...BASE_ENV, REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => app.close());

  it('treats the second presentation of a token as reuse at once', async () => {
    const { refreshToken: t0, sessionId, accessToken } = await registerAndLogin(app, 'strict');
    const rotated = await refresh(app, t0);
    expectTokenPair(rotated, sessionId);

    expectRefused(await refresh(app, t0), 'refresh_token_reused');
    expectRefused(await refresh(app, rotated.body.refreshToken), 'session_revoked');
    await expectSessionRevokedForBearer(app, accessToken);
    await expectSessionRevokedForBearer(app, rotated.body.accessToken);
    expect(await sessionRow(sessionId)).toMatchObject({ revoked_reason: 'reuse' });
  });

  it('lets exactly one of 20 concurrent refreshes of one token win; the other 19 are reuse and the family ends revoked', async () => {
    const { refreshToken: t0, sessionId, accessToken } = await registerAndLogin(app, 'strict-burst');
    const responses = await withFamilyHeld(sessionId, 20, () => Promise.all(Array.from({ length: 20 }, () => refresh(app, t0))));

    const winners = responses.filter((response) => response.status === 200);
    expect(winners).toHaveLength(1);
    expectTokenPair(winners[0], sessionId);
    const losers = responses.filter((response) => response.status !== 200);
    expect(losers.map((response) => [response.status, response.body.code])).toEqual(
      Array.from({ length: 19 }, () => [401, 'refresh_token_reused']),
    );

    expect(await sessionRow(sessionId)).toMatchObject({ revoked_at: expect.any(Date), revoked_reason: 'reuse' });
    expectRefused(await refresh(app, winners[0].body.refreshToken), 'session_revoked');
    await expectSessionRevokedForBearer(app, winners[0].body.accessToken);
    await expectSessionRevokedForBearer(app, accessToken);
    await expectRotations(sessionId, 1);
  });

  it('keeps strict concurrent refreshes of different sessions apart: each family rotates once and survives', async () => {
    const user = await registerAndLogin(app, 'strict-apart');
    const sessions = [user];
    for (let extra = 0; extra < 4; extra++) sessions.push({ ...user, ...(await login(app, user.email)) });

    // One refresh per session, all at once: no token is presented twice, so nothing is reuse.
    const responses = await Promise.all(sessions.map((session) => refresh(app, session.refreshToken)));
    responses.forEach((response, index) => expectTokenPair(response, sessions[index].sessionId));
    for (const session of sessions) {
      await expectRotations(session.sessionId, 1);
      expect((await sessionRow(session.sessionId)).revoked_at).toBeNull();
    }
  });
});
