import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { AuthSettings } from '../options/auth-settings.js';

/** The advisory lock (one 64-bit key) an instance holds while it cleans up; the others skip that round. */
export const CLEANUP_LOCK = 7_460_112_101;
/** Rows per DELETE: each statement is short, so no lock is held for long. */
export const CLEANUP_BATCH_SIZE = 1000;
// Retention beyond a century is forever, and keeps now() - retention inside timestamptz's range.
const MAX_RETENTION_S = 100 * 365 * 86400;
// setInterval fires at once for anything longer.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What one clean-up round did. */
export interface CleanupRound {
  /**
   * `completed`: this instance cleaned up; `locked`: another instance is doing so; `busy`: a round of
   * this instance is still running (or it is shutting down); `failed`: the database refused or is
   * unreachable (logged; the next round tries again).
   */
  outcome: 'completed' | 'locked' | 'busy' | 'failed';
  sessionsDeleted: number;
  eventsDeleted: number;
}

/**
 * Every CLEANUP_INTERVAL, on one instance at a time, deletes in batches the rows of sessions that
 * ended (revoked, past their absolute end, or idle past the idle limit) more than SESSION_RETENTION
 * ago, and the audit events older than AUDIT_RETENTION. A revoked session's row is kept at least an
 * access-token lifetime plus clock skew after its revocation whatever the retention: an instance
 * starting up reloads those rows to refuse the session's still-unexpired access tokens.
 */
@Injectable()
export class CleanupService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CleanupService.name);
  private readonly intervalMs: number;
  private readonly sessionRetention: number;
  private readonly revokedFloor: number;
  private readonly idleTtl: number;
  private readonly auditRetention: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CleanupRound> | undefined;
  private stopped = false;

  constructor(
    settings: AuthSettings,
    private readonly dataSource: DataSource,
  ) {
    const { tokens } = settings;
    this.intervalMs = Math.min(settings.cleanupInterval * 1000, MAX_TIMER_MS);
    this.sessionRetention = Math.min(settings.sessionRetention, MAX_RETENTION_S);
    // As RevokedSessions keeps them in memory: the last access token of a revoked session dies by then.
    this.revokedFloor = tokens.accessTokenTtl + tokens.clockSkew + 1;
    this.idleTtl = Math.min(tokens.refreshIdleTtl, MAX_RETENTION_S);
    this.auditRetention = Math.min(settings.auditRetention, MAX_RETENTION_S);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs).unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // A running round stops after its current batch.
    await this.running;
  }

  /** Runs one round now (unless one is running); never rejects. */
  runOnce(): Promise<CleanupRound> {
    if (this.running || this.stopped) return Promise.resolve({ outcome: 'busy', sessionsDeleted: 0, eventsDeleted: 0 });
    this.running = this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<CleanupRound> {
    const result: CleanupRound = { outcome: 'failed', sessionsDeleted: 0, eventsDeleted: 0 };
    // A session-level lock, so it spans the round's many short statements on this one connection.
    const runner = this.dataSource.createQueryRunner();
    let locked = false;
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [CLEANUP_LOCK])) as { locked: boolean }[];
      locked = row.locked;
      if (!locked) {
        result.outcome = 'locked';
        return result;
      }
      await this.deleteEndedSessions(runner, result);
      await this.deleteOldEvents(runner, result);
      result.outcome = 'completed';
      if (result.sessionsDeleted || result.eventsDeleted) {
        this.logger.log(`clean-up deleted ${result.sessionsDeleted} ended sessions and ${result.eventsDeleted} audit events`);
      }
    } catch (error) {
      this.logger.warn(`clean-up round failed, trying again in the next one: ${(error as Error).message}`);
    } finally {
      await this.release(runner, locked);
    }
    return result;
  }

  private async deleteEndedSessions(runner: QueryRunner, result: CleanupRound): Promise<void> {
    // Checked again on the row the DELETE locks, so a row changed since it was picked is only deleted if it still qualifies.
    const ended = (table: string) => `
      least(${table}.revoked_at, ${table}.expires_at, ${table}.last_used_at + make_interval(secs => $2)) < now() - make_interval(secs => $3)
      AND (${table}.revoked_at IS NULL OR ${table}.revoked_at < now() - make_interval(secs => $4))`;
    // Walks the primary key, so each batch goes on where the last stopped instead of rescanning.
    let after = '00000000-0000-0000-0000-000000000000';
    while (!this.stopped) {
      const [row] = (await runner.query(
        `WITH batch AS (
           SELECT id FROM auth_sessions s WHERE s.id > $1 AND ${ended('s')} ORDER BY s.id LIMIT $5
         ), gone AS (
           DELETE FROM auth_sessions d WHERE d.id IN (SELECT id FROM batch) AND ${ended('d')} RETURNING d.id
         )
         SELECT (SELECT count(*) FROM batch)::int AS picked, (SELECT count(*) FROM gone)::int AS deleted,
                (SELECT max(id::text) FROM batch) AS last`,
        [after, this.idleTtl, this.sessionRetention, this.revokedFloor, CLEANUP_BATCH_SIZE],
      )) as { picked: number; deleted: number; last: string | null }[];
      result.sessionsDeleted += row.deleted;
      if (row.picked < CLEANUP_BATCH_SIZE || row.last === null) return;
      after = row.last;
    }
  }

  private async deleteOldEvents(runner: QueryRunner, result: CleanupRound): Promise<void> {
    while (!this.stopped) {
      const [row] = (await runner.query(
        `WITH gone AS (
           DELETE FROM auth_events WHERE id IN (
             SELECT id FROM auth_events WHERE at < now() - make_interval(secs => $1) ORDER BY at LIMIT $2
           ) RETURNING 1
         )
         SELECT count(*)::int AS deleted FROM gone`,
        [this.auditRetention, CLEANUP_BATCH_SIZE],
      )) as { deleted: number }[];
      result.eventsDeleted += row.deleted;
      if (row.deleted < CLEANUP_BATCH_SIZE) return;
    }
  }

  private async release(runner: QueryRunner, locked: boolean): Promise<void> {
    try {
      if (locked) await runner.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK]);
      await runner.release();
    } catch (error) {
      // A connection still holding the lock must not go back to the pool: it would shut the others out.
      const postgres = runner as unknown as { releasePostgresConnection?: (error: Error) => Promise<void> };
      await postgres.releasePostgresConnection?.(error as Error).catch(() => undefined);
    }
  }
}
