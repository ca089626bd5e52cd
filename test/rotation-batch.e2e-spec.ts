import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SessionStore, type RefreshOutcome } from '../src/auth/sessions/session-store.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

// The Postgres store rotates the refreshes that arrive in one turn of the event loop with one
// statement (src/auth/sessions/turn-batcher.ts): driven here through the app's own store, on the
// real database, so that the calls of a test land in one turn for certain. One statement evaluates
// clock_timestamp() once, so the families of one batch share their last_used_at to the microsecond.
const POLICY = { idleTtl: 3600, reuseGrace: 10 };
const BATCH_MAX = 32;

let app: TestApp;
let store: SessionStore;
let db: pg.Pool;
let userId: string;

beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT: 'off', DB_POOL_SIZE: '8' });
  store = app.app.get(SessionStore, { strict: false });
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  ({ userId } = await registerAndLogin(app, 'batch'));
});
afterAll(async () => {
  await db?.query('DELETE FROM auth_sessions WHERE user_id = $1', [userId]);
  await db?.end();
  await app?.close();
});

/** `count` live families of the test's user, at generation 0. */
async function families(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await db.query(
    `INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at)
     SELECT id, $2, 0, now(), now(), now() + interval '1 day' FROM unnest($1::uuid[]) AS id`,
    [ids, userId],
  );
  return ids;
}

async function rows(ids: string[]) {
  const { rows } = await db.query<{ id: string; generation: number; last_used: string }>(
    `SELECT id, generation, to_char(last_used_at, 'YYYY-MM-DD HH24:MI:SS.US') AS last_used FROM auth_sessions WHERE id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

const kinds = (outcomes: RefreshOutcome[]) => outcomes.map((outcome) => outcome.kind);

describe('rotations that arrive together', () => {
  it('rotates the families of one turn in one statement each of at most 32, every family once', async () => {
    const ids = await families(BATCH_MAX + 8);
    const outcomes = await Promise.all(ids.map((id) => store.refresh(id, 0, POLICY)));

    expect(kinds(outcomes)).toEqual(ids.map(() => 'rotated'));
    outcomes.forEach((outcome, index) => {
      if (outcome.kind !== 'rotated') throw new Error(outcome.kind);
      expect(outcome.session).toMatchObject({ id: ids[index], userId, generation: 1 });
      expect(outcome.user).toEqual({ roles: ['user'], disabledAt: null });
    });
    const stored = await rows(ids);
    expect([...stored.values()].map((row) => row.generation)).toEqual(ids.map(() => 1));
    const firstBatch = new Set(ids.slice(0, BATCH_MAX).map((id) => stored.get(id)!.last_used));
    const secondBatch = new Set(ids.slice(BATCH_MAX).map((id) => stored.get(id)!.last_used));
    expect(firstBatch.size).toBe(1);
    expect(secondBatch.size).toBe(1);
  });

  it('rotates a family presented several times in one batch once: the others are answered by the grace', async () => {
    const [id] = await families(1);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => store.refresh(id, 0, POLICY)));

    expect(kinds(outcomes).sort()).toEqual(['grace', 'grace', 'grace', 'grace', 'grace', 'rotated']);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ session: { id, generation: 1 } });
    expect((await rows([id])).get(id)!.generation).toBe(1);
  });

  it('tells the current token from a stale one of the same family in one batch', async () => {
    const [id] = await families(1);
    expect((await store.refresh(id, 0, POLICY)).kind).toBe('rotated');
    const strict = { ...POLICY, reuseGrace: 0 };
    // In one batch: generation 1 (current) rotates in the statement; generation 0 (rotated, strict
    // mode) matches no row there, goes the one-by-one way after it, and is reuse: the family ends.
    const [stale, current] = await Promise.all([store.refresh(id, 0, strict), store.refresh(id, 1, strict)]);
    expect(current).toMatchObject({ kind: 'rotated', session: { id, generation: 2 } });
    expect(stale.kind).toBe('reused');
    const { rows: revoked } = await db.query('SELECT revoked_reason FROM auth_sessions WHERE id = $1', [id]);
    expect(revoked[0].revoked_reason).toBe('reuse');
  });

  it('does not hold a batch up behind a family that a transaction has locked', async () => {
    const [held, free] = await families(2);
    const holder = await db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM auth_sessions WHERE id = $1 FOR UPDATE', [held]);
      const heldRefresh = store.refresh(held, 0, POLICY);
      const freeRefresh = store.refresh(free, 0, POLICY);
      heldRefresh.catch(() => undefined); // awaited below
      // The free family rotates while the held one is still locked (a wait here would time the test out).
      expect(await freeRefresh).toMatchObject({ kind: 'rotated', session: { id: free, generation: 1 } });
      expect((await rows([held])).get(held)!.generation).toBe(0);
      await holder.query('COMMIT');
      // The held family went the one-by-one way: it waited for the lock, then rotated.
      expect(await heldRefresh).toMatchObject({ kind: 'rotated', session: { id: held, generation: 1 } });
    } finally {
      holder.release();
    }
  });
});
