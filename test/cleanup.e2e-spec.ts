import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { CLEANUP_BATCH_SIZE, CLEANUP_LOCK, CleanupService } from '../src/auth/maintenance/cleanup.service.js';
import { proxyToTestDatabase } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Rows are inserted with old timestamps straight into the tables, then the running apps' own clean-up
// runs. Nothing here is deletable by the other specs' rows: theirs ended moments ago at most.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// No round of its own during a test: each one is started by hand.
const RETENTION_ENV = { SESSION_RETENTION: '1d', AUDIT_RETENTION: '30d', ACCESS_TOKEN_TTL: '15m', REFRESH_IDLE_TTL: '7d', CLEANUP_INTERVAL: '1h' };

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await db.end();
});

/** Offsets from now as Postgres intervals (`-2 days`); `revoked` unset is a session never revoked. */
interface SessionAge {
  lastUsed: string;
  expires: string;
  revoked?: string;
}

async function insertSession(userId: string, age: SessionAge): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
     VALUES ($1, $2, 3, now() - interval '60 days', now() + $3::interval, now() + $4::interval, now() + $5::interval,
             CASE WHEN $5::interval IS NULL THEN NULL ELSE 'logout' END)`,
    [id, userId, age.lastUsed, age.expires, age.revoked ?? null],
  );
  return id;
}

const sessionIdsOf = async (userId: string) =>
  (await db.query<{ id: string }>('SELECT id FROM auth_sessions WHERE user_id = $1', [userId])).rows.map((row) => row.id).sort();

const countOf = async (sql: string, parameters: unknown[]) => (await db.query<{ count: number }>(sql, parameters)).rows[0].count;

describe('the clean-up', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(RETENTION_ENV), startTestApp(RETENTION_ENV)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('deletes the sessions that ended more than SESSION_RETENTION ago, and keeps live and recently ended ones', async () => {
    const userId = `cleanup-${randomUUID()}`;
    const gone = [
      await insertSession(userId, { lastUsed: '-2 days', expires: '20 days', revoked: '-2 days' }),
      await insertSession(userId, { lastUsed: '-3 days', expires: '-2 days' }),
      // Idle: unused for 9 days, dead after 7, so ended 2 days ago.
      await insertSession(userId, { lastUsed: '-9 days', expires: '20 days' }),
      await insertSession(userId, { lastUsed: '-40 days', expires: '-30 days', revoked: '-20 minutes' }),
    ];
    const kept = [
      await insertSession(userId, { lastUsed: '-1 hour', expires: '20 days' }),
      await insertSession(userId, { lastUsed: '-2 hours', expires: '20 days', revoked: '-2 hours' }),
      await insertSession(userId, { lastUsed: '-3 hours', expires: '-2 hours' }),
      // Idle for 7 days minus 2 hours: still live; and dead for 2 hours: within retention.
      await insertSession(userId, { lastUsed: '-6 days -22 hours', expires: '20 days' }),
      await insertSession(userId, { lastUsed: '-7 days -2 hours', expires: '20 days' }),
      // Ended a month ago but revoked a minute ago: an access token of it may be alive, and an
      // instance starting now must still load the revocation.
      await insertSession(userId, { lastUsed: '-40 days', expires: '-30 days', revoked: '-1 minute' }),
    ];

    const round = await a.app.get(CleanupService).runOnce();
    expect(round.outcome).toBe('completed');
    expect(round.sessionsDeleted).toBeGreaterThanOrEqual(gone.length);
    expect(await sessionIdsOf(userId)).toEqual([...kept].sort());
    // Nothing left to do: the next round deletes none of them.
    expect((await b.app.get(CleanupService).runOnce()).outcome).toBe('completed');
    expect(await sessionIdsOf(userId)).toEqual([...kept].sort());
  });

  it('deletes the audit events older than AUDIT_RETENTION, and keeps the others', async () => {
    const userId = `cleanup-${randomUUID()}`;
    await db.query(
      `INSERT INTO auth_events (type, user_id, at, detail)
       SELECT 'login_failed', $1, now() - make_interval(days => d), jsonb_build_object('days', d) FROM unnest(ARRAY[0, 10, 29, 31, 45, 400]) AS d`,
      [userId],
    );
    const round = await a.app.get(CleanupService).runOnce();
    expect(round.outcome).toBe('completed');
    expect(round.eventsDeleted).toBeGreaterThanOrEqual(3);
    const { rows } = await db.query("SELECT (detail->>'days')::int AS days FROM auth_events WHERE user_id = $1 ORDER BY 1", [userId]);
    expect(rows.map((row) => row.days)).toEqual([0, 10, 29]);
  });

  it('keeps a revoked session for an access-token lifetime plus skew even when SESSION_RETENTION is shorter', async () => {
    const app = await startTestApp({ ...RETENTION_ENV, SESSION_RETENTION: '1h', ACCESS_TOKEN_TTL: '1d' });
    try {
      const userId = `cleanup-${randomUUID()}`;
      const keptAnHour = await insertSession(userId, { lastUsed: '-3 hours', expires: '20 days', revoked: '-3 hours' });
      const pastFloor = await insertSession(userId, { lastUsed: '-2 days', expires: '20 days', revoked: '-1 day -1 minute' });
      const expired = await insertSession(userId, { lastUsed: '-3 hours', expires: '-2 hours' });
      expect((await app.app.get(CleanupService).runOnce()).outcome).toBe('completed');
      expect(await sessionIdsOf(userId)).toEqual([keptAnHour]);
      expect(keptAnHour).not.toBe(pastFloor);
      expect(keptAnHour).not.toBe(expired);
    } finally {
      await app.close();
    }
  });

  it('runs on one instance at a time: a round skips while another holds the lock', async () => {
    const userId = `cleanup-${randomUUID()}`;
    const ended = await insertSession(userId, { lastUsed: '-3 days', expires: '-2 days' });
    const holder = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [CLEANUP_LOCK]);
      const rounds = await Promise.all([a.app.get(CleanupService).runOnce(), b.app.get(CleanupService).runOnce()]);
      expect(rounds.map((round) => round.outcome)).toEqual(['locked', 'locked']);
      expect(await sessionIdsOf(userId)).toEqual([ended]);
      await holder.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK]);
      expect((await b.app.get(CleanupService).runOnce()).outcome).toBe('completed');
      expect(await sessionIdsOf(userId)).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('two instances running it at once do not both delete, and delete every row once, in batches', async () => {
    // Whatever else is due goes first, so the count below is of these rows alone.
    expect((await a.app.get(CleanupService).runOnce()).outcome).toBe('completed');
    const userId = `cleanup-${randomUUID()}`;
    const total = 3 * CLEANUP_BATCH_SIZE + 17;
    await db.query(
      `INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
       SELECT gen_random_uuid(), $1, 0, now() - interval '40 days', now() - interval '30 days', now() - interval '20 days',
              CASE WHEN n % 2 = 0 THEN now() - interval '25 days' END, CASE WHEN n % 2 = 0 THEN 'reuse' END
       FROM generate_series(1, $2::int) AS n`,
      [userId, total],
    );
    const live = await insertSession(userId, { lastUsed: '-1 minute', expires: '20 days' });

    const rounds = await Promise.all([a.app.get(CleanupService).runOnce(), b.app.get(CleanupService).runOnce()]);
    // One of them deleted them all; the other was locked out, or came after and found nothing.
    const deleting = rounds.filter((round) => round.sessionsDeleted > 0);
    expect(deleting).toHaveLength(1);
    expect(deleting[0].sessionsDeleted).toBe(total);
    for (const round of rounds) expect(['completed', 'locked']).toContain(round.outcome);
    expect(await sessionIdsOf(userId)).toEqual([live]);
    // The lock was let go: a later round on either instance runs.
    expect((await a.app.get(CleanupService).runOnce()).outcome).toBe('completed');
    // A 64-bit advisory key shows in pg_locks as its high and low halves.
    const held = await countOf(
      `SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 1`,
      [Math.floor(CLEANUP_LOCK / 2 ** 32), CLEANUP_LOCK % 2 ** 32],
    );
    expect(held).toBe(0);
  });

  it('runs by itself every CLEANUP_INTERVAL', async () => {
    const app = await startTestApp({ ...RETENTION_ENV, CLEANUP_INTERVAL: '1s' });
    try {
      const userId = `cleanup-${randomUUID()}`;
      await insertSession(userId, { lastUsed: '-3 days', expires: '-2 days' });
      const started = Date.now();
      while ((await sessionIdsOf(userId)).length && Date.now() - started < 15_000) await sleep(100);
      expect(await sessionIdsOf(userId)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

it('the clean-up skips a round while the database is down, and runs the next one', async () => {
  const { proxy, url } = await proxyToTestDatabase();
  const app = await startTestApp(RETENTION_ENV, url);
  try {
    const userId = `cleanup-${randomUUID()}`;
    await insertSession(userId, { lastUsed: '-3 days', expires: '-2 days' });
    const cleanup = app.app.get(CleanupService);
    await proxy.cut();
    expect(await cleanup.runOnce()).toEqual({ outcome: 'failed', sessionsDeleted: 0, eventsDeleted: 0 });
    expect(await sessionIdsOf(userId)).toHaveLength(1);
    await proxy.restore();
    let outcome = 'failed';
    // The pool may hand out a connection the cut killed before it notices; the round after that runs.
    for (let attempt = 0; attempt < 20 && outcome !== 'completed'; attempt++) {
      outcome = (await cleanup.runOnce()).outcome;
      if (outcome !== 'completed') await sleep(100);
    }
    expect(outcome).toBe('completed');
    expect(await sessionIdsOf(userId)).toEqual([]);
  } finally {
    await app.close();
    await proxy.stop();
  }
});
