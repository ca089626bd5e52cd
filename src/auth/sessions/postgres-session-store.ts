import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { isDatabaseUnavailable } from '../errors/database-unavailable.js';
import { PostgresUserStore } from '../users/postgres-user-store.js';
import { UserStore } from '../users/user-store.js';
import { decideRefresh, type RefreshPolicy } from './refresh-decision.js';
import { REVOCATION_CHANNEL } from './revocation-channel.js';
import { TurnBatcher } from './turn-batcher.js';
import {
  type NewSession,
  type RefreshOutcome,
  type Revocation,
  type RevocationReason,
  type RotatedSession,
  type RotatingUser,
  type SessionRecord,
  SessionStore,
} from './session-store.js';

interface SessionRow {
  id: string;
  user_id: string;
  generation: number;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  user_agent: string | null;
  ip: string | null;
}

const SESSION_COLUMNS = 'id, user_id, generation, created_at, last_used_at, expires_at, user_agent, ip';
// What a rotation returns: what issuing the new pair needs (every column and date parsed costs the hottest route).
const ROTATED_COLUMNS = 'id, user_id, generation, last_used_at, expires_at';

type RotatedRow = Pick<SessionRow, 'id' | 'user_id' | 'generation' | 'last_used_at' | 'expires_at'>;

// Revokes the rows the WHERE clause picks and announces each on the revocation channel; NOTIFY is
// delivered on commit, so other instances never hear of a revocation that was rolled back.
const revokeWhere = (where: string) => `
  WITH revoked AS (
    UPDATE auth_sessions SET revoked_at = clock_timestamp(), revoked_reason = $1
    WHERE revoked_at IS NULL AND ${where}
    RETURNING id, user_id, revoked_at, revoked_reason
  )
  SELECT id, user_id, revoked_at, revoked_reason, pg_notify('${REVOCATION_CHANNEL}', id::text) FROM revoked`;

// A family keeps the times of its rotations that are still within the reuse grace (and the latest),
// newest first: a token whose rotation time is no longer kept was rotated outside the grace. The cap
// bounds the row even under a flood of rotations; beyond it a token counts as rotated outside the grace.
const ROTATIONS_KEPT = 64;

// The user's lock, in Postgres's advisory-lock space: logins that start a session and password changes take turns on it.
const USER_LOCK = `hashtextextended('auth_sessions:' || $1, 0)`;

// Rotates every presented family whose token is its current one and which is live, in one statement:
// the refreshes that arrive in one turn of the event loop share a round trip (ROTATION_BATCH_MAX at
// most). SKIP LOCKED leaves a family that a transaction holds to the one-by-one path, rather than have
// the rest of the batch wait for it. With the package's own users table, the statement also reads
// what the refresh needs of each user (the CASE keeps a user id that is not a uuid from failing the
// cast: it finds no user). One statement per batch size, each parsed and planned once per connection.
const ROTATION_BATCH_MAX = 32;
const PRESENTED_COLUMNS = 4; // id, generation, idle TTL, reuse grace

function rotationStatement(count: number, readsUser: boolean): string {
  const presented = Array.from({ length: count }, (_, index) => {
    const first = index * PRESENTED_COLUMNS + 1;
    return `($${first}::uuid, $${first + 1}::bigint, $${first + 2}::float8, $${first + 3}::float8)`;
  }).join(', ');
  const rotated = `
    WITH c AS (SELECT clock_timestamp() AS now),
    presented AS (
      SELECT s.id, p.idle_ttl, p.reuse_grace
      FROM auth_sessions s JOIN (VALUES ${presented}) AS p(id, generation, idle_ttl, reuse_grace)
        ON s.id = p.id AND s.generation = p.generation
      FOR UPDATE OF s SKIP LOCKED
    ),
    rotated AS (
      UPDATE auth_sessions s
      SET generation = s.generation + 1, last_used_at = c.now,
          rotations = (ARRAY[c.now] || ARRAY(
            SELECT r FROM unnest(s.rotations) WITH ORDINALITY AS kept(r, i)
            WHERE r > c.now - make_interval(secs => presented.reuse_grace) ORDER BY i
          ))[1:${ROTATIONS_KEPT}]
      FROM presented, c
      WHERE s.id = presented.id AND s.revoked_at IS NULL
        AND s.expires_at > c.now AND s.last_used_at > c.now - make_interval(secs => presented.idle_ttl)
      RETURNING ${ROTATED_COLUMNS.split(', ').map((column) => `s.${column}`).join(', ')}
    )`;
  return readsUser
    ? `${rotated}
    SELECT rotated.*, u.id IS NOT NULL AS user_found, u.roles AS user_roles, u.disabled_at AS user_disabled_at
    FROM rotated LEFT JOIN auth_users u
      ON u.id = CASE WHEN rotated.user_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN rotated.user_id::uuid END`
    : `${rotated} SELECT * FROM rotated`;
}

/** A refresh token presented for rotation, with the policy it is judged by. */
interface Presented {
  sessionId: string;
  generation: number;
  policy: RefreshPolicy;
}

type RotatedRowWithUser = RotatedRow & { user_found?: boolean; user_roles?: string[] | null; user_disabled_at?: Date | null };

/** What TypeORM's Postgres driver offers beyond its Driver interface: a client of its pool. */
interface PostgresPool {
  obtainMasterConnection(): Promise<[pg.PoolClient, (error?: Error) => void]>;
}

/**
 * SessionStore on Postgres. A rotation is one conditional UPDATE of the family's row; anything else
 * (a retry within the grace, a reuse, a dead session) is decided in one transaction with the row locked.
 */
@Injectable()
export class PostgresSessionStore extends SessionStore {
  private readonly readsUser: boolean;
  private readonly rotationStatements: { name: string; text: string }[] = [];
  private readonly rotations = new TurnBatcher<Presented, RotatedRowWithUser | undefined>(ROTATION_BATCH_MAX, (presented) =>
    this.rotate(presented),
  );

  constructor(
    private readonly dataSource: DataSource,
    users: UserStore,
  ) {
    super();
    // With the package's own users table, a refresh costs one round trip: rotation and user in one statement.
    this.readsUser = users instanceof PostgresUserStore;
  }

  async create(
    session: NewSession,
    stillValid: () => Promise<boolean>,
  ): Promise<{ session: SessionRecord; evicted: Revocation[] } | undefined> {
    return this.dataSource.transaction(async (manager) => {
      // One user's logins and password changes take turns here: a cap that concurrent logins cannot
      // overshoot, and no login that checked a password being changed can start a session after it.
      await manager.query(`SELECT pg_advisory_xact_lock(${USER_LOCK})`, [session.userId]);
      if (!(await stillValid())) return undefined;
      const [row] = (await manager.query(
        `INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at, user_agent, ip)
         VALUES ($1, $2, 0, now(), now(), now() + make_interval(secs => $3), $4, $5)
         RETURNING ${SESSION_COLUMNS}`,
        [session.id, session.userId, session.ttl, session.userAgent, session.ip],
      )) as SessionRow[];
      // The new session always stays: the others keep maxLive - 1 places, most recently used first.
      const evicted = await this.revokeWith(
        manager,
        `id IN (SELECT id FROM auth_sessions
                WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL
                  AND expires_at > now() AND last_used_at > now() - make_interval(secs => $4)
                ORDER BY last_used_at DESC, created_at DESC OFFSET $5)`,
        ['session_limit', session.userId, session.id, session.idleTtl, session.maxLive - 1],
      );
      return { session: toRecord(row), evicted };
    });
  }

  async revokeAllAndChange(
    userId: string,
    reason: RevocationReason,
    change: () => Promise<unknown>,
    exceptSessionId?: string,
  ): Promise<Revocation[]> {
    return this.locked(userId, async (manager) => {
      // Revoked first and committed: should the change fail, the other sessions are gone and the
      // old password still holds — never a new password (or a disabled account) with an old session alive.
      const revoked = await this.revokeAllOfUserWith(manager, userId, reason, exceptSessionId);
      await change();
      return revoked;
    });
  }

  withUserLock<T>(userId: string, task: () => Promise<T>): Promise<T> {
    return this.locked(userId, task);
  }

  /** `task` gets the locked connection's manager. */
  private async locked<T>(userId: string, task: (manager: EntityManager) => Promise<T>): Promise<T> {
    // A session-level lock on a connection of its own, held while the host's store writes the change.
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(${USER_LOCK})`, [userId]);
      try {
        return await task(runner.manager);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${USER_LOCK})`, [userId]);
      }
    } finally {
      await runner.release();
    }
  }

  async refresh(sessionId: string, generation: number, policy: RefreshPolicy): Promise<RefreshOutcome> {
    const rotated = await this.rotations.run({ sessionId, generation, policy });
    if (rotated) return this.rotatedOutcome(rotated);

    return this.dataSource.transaction(async (manager): Promise<RefreshOutcome> => {
      // Concurrent refreshes of one family queue here, so each sees the outcome of the one before.
      const [session] = (await manager.query(
        `SELECT ${SESSION_COLUMNS}, revoked_at, rotations, clock_timestamp() AS now FROM auth_sessions WHERE id = $1 FOR UPDATE`,
        [sessionId],
      )) as (SessionRow & { revoked_at: Date | null; rotations: Date[]; now: Date })[];
      // A family cleaned up after it ended, or a generation it never reached.
      if (!session || generation > session.generation) return { kind: 'unknown' };
      const decision = decideRefresh(
        {
          now: session.now,
          sessionGeneration: session.generation,
          sessionRevoked: session.revoked_at !== null,
          expiresAt: session.expires_at,
          lastUsedAt: session.last_used_at,
          tokenGeneration: generation,
          // rotations[0] is when the current token's predecessor was rotated; older tokens further back.
          tokenRotatedAt: session.rotations[session.generation - generation - 1] ?? null,
        },
        policy,
      );
      switch (decision) {
        case 'rotate': {
          const presented = { sessionId, generation, policy };
          const [row] = (await manager.query(this.rotationStatementFor(1).text, valuesOf(presented))) as (RotatedRowWithUser | undefined)[];
          // No row: the family reached its end in the microseconds since it was read (the row is locked).
          return row ? this.rotatedOutcome(row) : { kind: 'expired', userId: session.user_id };
        }
        case 'grace':
          return { kind: 'grace', session: await this.touch(manager, session.id) };
        case 'reuse': {
          // Nothing to revoke when an earlier reuse (or a logout) already did; the answer is still reuse.
          const [revocation] = await this.revokeWith(manager, 'id = $2', ['reuse', session.id]);
          return { kind: 'reused', userId: session.user_id, revocation };
        }
        default:
          return { kind: decision, userId: session.user_id };
      }
    });
  }

  revoke(sessionId: string, reason: RevocationReason, userId?: string): Promise<Revocation[]> {
    return userId === undefined
      ? this.revokeWith(this.dataSource.manager, 'id = $2', [reason, sessionId])
      : this.revokeWith(this.dataSource.manager, 'id = $2 AND user_id = $3', [reason, sessionId, userId]);
  }

  revokeAllOfUser(userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<Revocation[]> {
    return this.revokeAllOfUserWith(this.dataSource.manager, userId, reason, exceptSessionId);
  }

  async listLive(userId: string, idleTtl: number): Promise<SessionRecord[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${SESSION_COLUMNS} FROM auth_sessions
       WHERE user_id = $1 AND revoked_at IS NULL
         AND expires_at > now() AND last_used_at > now() - make_interval(secs => $2)
       ORDER BY created_at DESC`,
      [userId, idleTtl],
    )) as SessionRow[];
    return rows.map(toRecord);
  }

  async revokedSince(since: Date): Promise<Revocation[]> {
    const rows = (await this.dataSource.query(
      'SELECT id, user_id, revoked_at, revoked_reason FROM auth_sessions WHERE revoked_at >= $1 ORDER BY revoked_at',
      [since],
    )) as RevocationRow[];
    return rows.map(toRevocation);
  }

  /** One statement for a batch of presented tokens: each gets its family's row if it rotated the family. */
  private async rotate(presented: Presented[]): Promise<(RotatedRowWithUser | undefined)[]> {
    const rows = await this.prepared<RotatedRowWithUser>(this.rotationStatementFor(presented.length), presented.flatMap(valuesOf));
    // A family presented twice in one batch rotates once: the row goes to the first token of the generation it rotated.
    const unclaimed = new Map(rows.map((row) => [row.id, row]));
    return presented.map(({ sessionId, generation }) => {
      const row = unclaimed.get(sessionId);
      if (row?.generation !== generation + 1) return undefined;
      unclaimed.delete(sessionId);
      return row;
    });
  }

  private rotationStatementFor(count: number): { name: string; text: string } {
    return (this.rotationStatements[count] ??= {
      name: `auth_rotate_${count}${this.readsUser ? '_reading_user' : ''}`,
      text: rotationStatement(count, this.readsUser),
    });
  }

  private rotatedOutcome(row: RotatedRowWithUser): RefreshOutcome {
    const session = toRotated(row);
    return this.readsUser ? { kind: 'rotated', session, user: userOf(row) } : { kind: 'rotated', session };
  }

  /** Runs a prepared statement on a client of the DataSource's pool, past TypeORM's per-query runner. */
  private async prepared<Row extends pg.QueryResultRow>(statement: { name: string; text: string }, values: unknown[]): Promise<Row[]> {
    const [client, release] = await (this.dataSource.driver as unknown as PostgresPool).obtainMasterConnection();
    // A connection that breaks mid-query emits 'error' on the client: heard here, and the client is
    // handed back as broken so the pool drops it (what TypeORM's query runner does).
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      return (await client.query<Row>({ ...statement, values })).rows;
    } catch (error) {
      if (isDatabaseUnavailable(error)) broken ??= error as Error;
      throw error;
    } finally {
      client.removeListener('error', onError);
      release(broken);
    }
  }

  private async touch(manager: EntityManager, sessionId: string): Promise<SessionRecord> {
    const [row] = (await manager.query(
      `WITH touched AS (
         UPDATE auth_sessions SET last_used_at = clock_timestamp() WHERE id = $1 RETURNING ${SESSION_COLUMNS}
       )
       SELECT * FROM touched`,
      [sessionId],
    )) as SessionRow[];
    return toRecord(row);
  }

  private revokeAllOfUserWith(manager: EntityManager, userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<Revocation[]> {
    return exceptSessionId === undefined
      ? this.revokeWith(manager, 'user_id = $2', [reason, userId])
      : this.revokeWith(manager, 'user_id = $2 AND id <> $3', [reason, userId, exceptSessionId]);
  }

  private async revokeWith(manager: EntityManager, where: string, parameters: unknown[]): Promise<Revocation[]> {
    const rows = (await manager.query(revokeWhere(where), parameters)) as RevocationRow[];
    return rows.map(toRevocation);
  }
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    generation: row.generation,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

function toRotated(row: RotatedRow): RotatedSession {
  return { id: row.id, userId: row.user_id, generation: row.generation, lastUsedAt: row.last_used_at, expiresAt: row.expires_at };
}

function userOf(row: RotatedRowWithUser): RotatingUser | null {
  return row.user_found ? { roles: row.user_roles ?? [], disabledAt: row.user_disabled_at ?? null } : null;
}

function valuesOf({ sessionId, generation, policy }: Presented): unknown[] {
  return [sessionId, generation, policy.idleTtl, policy.reuseGrace];
}

interface RevocationRow {
  id: string;
  user_id: string;
  revoked_at: Date;
  revoked_reason: string;
}

function toRevocation(row: RevocationRow): Revocation {
  return { sessionId: row.id, userId: row.user_id, revokedAt: row.revoked_at, reason: row.revoked_reason };
}
