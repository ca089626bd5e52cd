import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { REVOCATION_CHANNEL } from './revocation-channel.js';
import { RevokedSessions } from './revoked-sessions.js';
import { SessionStore } from './session-store.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
// A silently dropped connection (no FIN) is only noticed by talking on it.
const HEARTBEAT_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 1_500;

/**
 * Keeps RevokedSessions in step with every instance's revocations: LISTENs on the channel that the
 * revoking transaction NOTIFYs on commit, loads the recent revocations after every (re)connect (the
 * LISTEN comes first, so nothing falls between the load and the feed), and reconnects with back-off.
 * One dedicated connection per instance, outside the pool.
 */
@Injectable()
export class RevocationFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationFeed.name);
  private readonly connection: pg.ClientConfig;
  private client: pg.Client | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly revokedSessions: RevokedSessions,
    private readonly store: SessionStore,
    dataSource: DataSource,
  ) {
    this.connection = listenConnectionOf(dataSource);
  }

  /** Start-up waits for the first load when the database answers; otherwise the guard fails closed until it does. */
  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === REVOCATION_CHANNEL && message.payload) this.revokedSessions.add([message.payload]);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
      for (const { sessionId, revokedAt } of await this.store.revokedSince(this.revokedSessions.window)) {
        this.revokedSessions.add([sessionId], revokedAt.getTime());
      }
      if (this.stopped || this.client !== client) return;
      this.revokedSessions.feedUp();
      this.retryMs = RETRY_MIN_MS;
      this.heartbeatTimer = setInterval(() => void this.heartbeat(client), HEARTBEAT_MS).unref();
    } catch (error) {
      this.logger.warn(`revocation feed connect failed: ${(error as Error).message}`);
      this.lost(client);
    }
  }

  private async heartbeat(client: pg.Client): Promise<void> {
    const timeout = setTimeout(() => this.lost(client), HEARTBEAT_TIMEOUT_MS).unref();
    try {
      await client.query('SELECT 1');
    } catch {
      this.lost(client);
    } finally {
      clearTimeout(timeout);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeatTimer);
    this.revokedSessions.feedDown();
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn(`revocation feed down; reconnecting in ${this.retryMs} ms`);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs).unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}

/**
 * The host DataSource's own connection settings, however it gave them (a URL, or host, port, user,
 * password, ssl, extra): TypeORM hands them to the pg Pool it creates, and the feed reuses them.
 */
function listenConnectionOf(dataSource: DataSource): pg.ClientConfig {
  const pool = (dataSource.driver as unknown as { master?: { options?: pg.PoolConfig } }).master;
  if (!pool?.options) throw new Error('AuthModule needs a TypeORM DataSource on PostgreSQL (type "postgres"), initialised');
  const { max: _max, min: _min, idleTimeoutMillis: _idle, maxUses: _uses, allowExitOnIdle: _exit, ...connection } = pool.options;
  return { ...connection, application_name: `${connection.application_name ?? 'auth'}:revocation-feed` };
}
