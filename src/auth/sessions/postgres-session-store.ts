import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { decideRefresh, type RefreshPolicy } from './refresh-decision.js';
import { REVOCATION_CHANNEL } from './revocation-channel.js';
import {
  type NewSession,
  type RefreshOutcome,
  type Revocation,
  type RevocationReason,
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

// Revokes the rows the WHERE clause picks and announces each on the revocation channel; NOTIFY is
// delivered on commit, so other instances never hear of a revocation that was rolled back.
const revokeWhere = (where: string) => `
  WITH revoked AS (
    UPDATE auth_sessions SET revoked_at = clock_timestamp(), revoked_reason = $1
    WHERE revoked_at IS NULL AND ${where}
    RETURNING id, revoked_at
  )
  SELECT id, revoked_at, pg_notify('${REVOCATION_CHANNEL}', id::text) FROM revoked`;

/** SessionStore on Postgres: the rotation is one transaction with the family row locked. */
@Injectable()
export class PostgresSessionStore extends SessionStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async create(session: NewSession, firstTokenHash: Buffer): Promise<{ session: SessionRecord; evicted: Revocation[] }> {
    return this.dataSource.transaction(async (manager) => {
      // One user's logins take turns here, so concurrent ones cannot all see room under the cap.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('auth_sessions:' || $1, 0))`, [session.userId]);
      const [row] = (await manager.query(
        `WITH created AS (
           INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at, user_agent, ip)
           VALUES ($1, $2, 0, now(), now(), now() + make_interval(secs => $3), $4, $5)
           RETURNING ${SESSION_COLUMNS}
         ), first_token AS (
           INSERT INTO auth_refresh_tokens (session_id, generation, token_hash, issued_at)
           SELECT id, 0, $6::bytea, created_at FROM created
         )
         SELECT * FROM created`,
        [session.id, session.userId, session.ttl, session.userAgent, session.ip, firstTokenHash],
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

  async refresh(
    tokenHash: Buffer,
    policy: RefreshPolicy,
    hashOf: (sessionId: string, generation: number) => Buffer,
  ): Promise<RefreshOutcome> {
    // A token's family and generation never change, so this read needs no lock.
    const [token] = (await this.dataSource.query(
      'SELECT id, session_id, generation FROM auth_refresh_tokens WHERE token_hash = $1',
      [tokenHash],
    )) as { id: string; session_id: string; generation: number }[];
    if (!token) return { kind: 'unknown' };

    return this.dataSource.transaction(async (manager): Promise<RefreshOutcome> => {
      // Concurrent refreshes of one family queue here, so each sees the outcome of the one before.
      const [session] = (await manager.query(
        `SELECT ${SESSION_COLUMNS}, revoked_at, clock_timestamp() AS now FROM auth_sessions WHERE id = $1 FOR UPDATE`,
        [token.session_id],
      )) as (SessionRow & { revoked_at: Date | null; now: Date })[];
      const active = token.generation === session.generation;
      // Read after the lock, in a new statement, so a rotation committed while we waited is seen.
      const rotatedAt = active ? null : await this.rotatedAt(manager, token.id);
      const decision = decideRefresh(
        {
          now: session.now,
          sessionGeneration: session.generation,
          sessionRevoked: session.revoked_at !== null,
          expiresAt: session.expires_at,
          lastUsedAt: session.last_used_at,
          tokenGeneration: token.generation,
          tokenRotatedAt: rotatedAt,
        },
        policy,
      );
      switch (decision) {
        case 'rotate':
          return { kind: 'rotated', session: await this.rotate(manager, session, token.id, hashOf) };
        case 'grace':
          return { kind: 'grace', session: await this.touch(manager, session.id) };
        case 'reuse': {
          // Nothing to revoke when an earlier reuse (or a logout) already did; the answer is still reuse.
          const [revocation] = await this.revokeWith(manager, 'id = $2', ['reuse', session.id]);
          return { kind: 'reused', revocation };
        }
        default:
          return { kind: decision };
      }
    });
  }

  async findSessionIdByTokenHash(tokenHash: Buffer): Promise<string | undefined> {
    const [row] = (await this.dataSource.query('SELECT session_id FROM auth_refresh_tokens WHERE token_hash = $1', [
      tokenHash,
    ])) as { session_id: string }[];
    return row?.session_id;
  }

  revoke(sessionId: string, reason: RevocationReason, userId?: string): Promise<Revocation[]> {
    return userId === undefined
      ? this.revokeWith(this.dataSource.manager, 'id = $2', [reason, sessionId])
      : this.revokeWith(this.dataSource.manager, 'id = $2 AND user_id = $3', [reason, sessionId, userId]);
  }

  revokeAllOfUser(userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<Revocation[]> {
    return exceptSessionId === undefined
      ? this.revokeWith(this.dataSource.manager, 'user_id = $2', [reason, userId])
      : this.revokeWith(this.dataSource.manager, 'user_id = $2 AND id <> $3', [reason, userId, exceptSessionId]);
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
      'SELECT id, revoked_at FROM auth_sessions WHERE revoked_at >= $1 ORDER BY revoked_at',
      [since],
    )) as { id: string; revoked_at: Date }[];
    return rows.map(toRevocation);
  }

  private async rotate(
    manager: EntityManager,
    session: SessionRow & { now: Date },
    tokenId: string,
    hashOf: (sessionId: string, generation: number) => Buffer,
  ): Promise<SessionRecord> {
    const next = session.generation + 1;
    const [row] = (await manager.query(
      // Chained so the old token leaves the one-active-token index before its successor enters it.
      `WITH rotated AS (
         UPDATE auth_refresh_tokens SET rotated_at = $3 WHERE id = $4 RETURNING id
       ), successor AS (
         INSERT INTO auth_refresh_tokens (session_id, generation, token_hash, parent_id, issued_at)
         SELECT $1::uuid, $2::integer, $5::bytea, id, $3::timestamptz FROM rotated
         RETURNING session_id
       ), moved AS (
         UPDATE auth_sessions SET generation = $2, last_used_at = $3 WHERE id = (SELECT session_id FROM successor)
         RETURNING ${SESSION_COLUMNS}
       )
       SELECT * FROM moved`,
      [session.id, next, session.now, tokenId, hashOf(session.id, next)],
    )) as SessionRow[];
    return toRecord(row);
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

  private async rotatedAt(manager: EntityManager, tokenId: string): Promise<Date | null> {
    const [row] = (await manager.query('SELECT rotated_at FROM auth_refresh_tokens WHERE id = $1', [tokenId])) as {
      rotated_at: Date | null;
    }[];
    return row.rotated_at;
  }

  private async revokeWith(manager: EntityManager, where: string, parameters: unknown[]): Promise<Revocation[]> {
    const rows = (await manager.query(revokeWhere(where), parameters)) as { id: string; revoked_at: Date }[];
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

function toRevocation(row: { id: string; revoked_at: Date }): Revocation {
  return { sessionId: row.id, revokedAt: row.revoked_at };
}
