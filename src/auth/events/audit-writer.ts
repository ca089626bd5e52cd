import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditQueue } from './audit-queue.js';
import type { AuthEvent } from './auth-event.js';

/** Rows per INSERT; a queue this long is written at once instead of at the next tick. */
export const AUDIT_BATCH_SIZE = 500;
/** Events held while the database is unreachable; past it the oldest are dropped (and counted in the log). */
export const AUDIT_QUEUE_CAPACITY = 10_000;
const FLUSH_INTERVAL_MS = 100;
const RETRY_MAX_MS = 5_000;
// Shutdown must end even when the database is gone and the host's pool has no connect timeout.
const SHUTDOWN_FLUSH_MS = 5_000;

// One statement and eight parameters whatever the batch size, so it prepares once and never hits
// the 65535-parameter limit.
const INSERT_EVENTS = `
  INSERT INTO auth_events (type, user_id, session_id, ip, user_agent, request_id, at, detail)
  SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])`;

/**
 * Writes the queued security events to `auth_events` in batches, off the request path: about every
 * 100 ms, or at once when a batch is full. While the database is down it retries with back-off and
 * holds at most AUDIT_QUEUE_CAPACITY events, dropping the oldest; what is queued is written on
 * recovery and at shutdown. At least once: an insert whose answer was lost is written again.
 */
@Injectable()
export class AuditWriter implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly queue = new AuditQueue<AuthEvent>(AUDIT_QUEUE_CAPACITY);
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private flushing: Promise<boolean> | undefined;
  /** 0 while writes succeed; the next retry's delay while they fail. */
  private retryMs = 0;
  private written = 0;
  private stopped = false;

  constructor(private readonly dataSource: DataSource) {}

  /** Queues an event; never waits, never throws. */
  enqueue(event: AuthEvent): void {
    this.queue.push(event);
    this.schedule(this.retryMs || (this.queue.size >= AUDIT_BATCH_SIZE ? 0 : FLUSH_INTERVAL_MS));
  }

  /** Writes what is queued now; true when the queue is empty afterwards. Never rejects. */
  flush(): Promise<boolean> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.queue.size) this.schedule(this.retryMs || FLUSH_INTERVAL_MS);
    });
    return this.flushing;
  }

  /** Events queued, written and dropped (queue full) by this instance. */
  get stats(): { queued: number; written: number; dropped: number } {
    return { queued: this.queue.size, written: this.written, dropped: this.queue.dropped };
  }

  // Before the HTTP server closes: most events are written while the pool is surely open.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushWithin(SHUTDOWN_FLUSH_MS);
  }

  // After it closed: what the draining requests emitted, if the DataSource is still open.
  async onApplicationShutdown(): Promise<void> {
    if (this.queue.size && this.dataSource.isInitialized) await this.flushWithin(SHUTDOWN_FLUSH_MS);
    if (this.queue.size) this.logger.warn(`${this.queue.size} audit events were not written before shutdown`);
  }

  private schedule(delayMs: number): void {
    // A running flush reschedules itself when it is done.
    if (this.stopped || this.flushing) return;
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs).unref();
  }

  private async flushWithin(ms: number): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timeout = setTimeout(resolve, ms).unref()));
    const flushed = (async () => {
      await this.flushing;
      await this.flush();
    })();
    await Promise.race([flushed, deadline]);
    clearTimeout(timeout);
  }

  private async drain(): Promise<boolean> {
    while (this.queue.size > 0) {
      const batch = this.queue.take(AUDIT_BATCH_SIZE);
      try {
        await this.insert(batch);
      } catch (error) {
        const unwritten = isRefusedData(error) ? await this.insertOneByOne(batch) : { rest: batch, error: error as Error };
        if (!unwritten) continue;
        this.queue.putBack(unwritten.rest);
        this.failed(unwritten.error);
        return false;
      } finally {
        this.reportDropped();
      }
      this.written += batch.length;
      if (this.retryMs) this.logger.log(`audit events are written again (${this.queue.size} still queued)`);
      this.retryMs = 0;
    }
    return true;
  }

  private insert(batch: readonly AuthEvent[]): Promise<unknown> {
    return this.dataSource.query(INSERT_EVENTS, [
      batch.map((event) => event.type),
      batch.map((event) => event.userId),
      batch.map((event) => event.sessionId),
      batch.map((event) => event.ip),
      batch.map((event) => event.userAgent),
      batch.map((event) => event.requestId),
      batch.map((event) => event.at.toISOString()),
      batch.map((event) => JSON.stringify(event.detail)),
    ]);
  }

  // toAuthEvent makes every event insertable; should one still be refused, it alone is lost, not its
  // batch. Returns what is left to write when the connection fails on the way.
  private async insertOneByOne(batch: readonly AuthEvent[]): Promise<{ rest: readonly AuthEvent[]; error: Error } | undefined> {
    for (const [index, event] of batch.entries()) {
      try {
        await this.insert([event]);
        this.written++;
      } catch (error) {
        if (!isRefusedData(error)) return { rest: batch.slice(index), error: error as Error };
        this.logger.error(`dropped a ${event.type} audit event the database refused: ${(error as Error).message}`);
      }
    }
    return undefined;
  }

  private failed(error: Error): void {
    if (!this.retryMs) {
      this.logger.warn(`audit events cannot be written (${error.message}); ${this.queue.size} queued, retrying`);
    }
    this.retryMs = Math.min(RETRY_MAX_MS, (this.retryMs || FLUSH_INTERVAL_MS) * 2);
  }

  private reportDropped(): void {
    const dropped = this.queue.takeDropped();
    if (dropped) {
      this.logger.warn(`dropped the ${dropped} oldest audit events: ${AUDIT_QUEUE_CAPACITY} are queued and the database is unreachable`);
    }
  }
}

/** The database refused the values (a data exception or a constraint), not the connection. */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
