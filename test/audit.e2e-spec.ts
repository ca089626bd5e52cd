import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { toAuthEvent } from '../src/auth/events/auth-event.js';
import { AUDIT_QUEUE_CAPACITY, AuditWriter } from '../src/auth/events/audit-writer.js';
import { type AuthEvent, AuthEvents, AuthEventType } from '../src/auth/index.js';
import { proxyToTestDatabase, type TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin } from './support/users.js';

// The security events through the running app's own AuthEvents: logged, handed to subscribers, and
// written to auth_events by the batch writer, also across a database outage.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EventRow {
  id: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  at: Date;
  detail: Record<string, unknown>;
}

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await db.end();
});

const rowsOf = async (requestId: string) =>
  (await db.query<EventRow>('SELECT * FROM auth_events WHERE request_id = $1 ORDER BY id', [requestId])).rows;

/** Waits (up to `ms`) until `count` events of `requestId` are in the table; returns them. */
async function rowsArrive(requestId: string, count: number, ms = 15_000): Promise<EventRow[]> {
  const started = Date.now();
  for (;;) {
    const rows = await rowsOf(requestId);
    if (rows.length >= count || Date.now() - started > ms) return rows;
    await sleep(50);
  }
}

describe('security events', () => {
  let app: TestApp;
  let events: AuthEvents;
  beforeAll(async () => {
    app = await startTestApp();
    events = app.app.get(AuthEvents);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("land in auth_events after a login, and reach in-process subscribers", async () => {
    const user = await registerAndLogin(app, 'audit-login');
    expect((await app.request('POST', '/auth/login', { body: { email: user.email, password: 'not the password' } })).status).toBe(401);
    const requestId = `audit-${randomUUID()}`;
    const received: AuthEvent[] = [];
    const unsubscribe = events.subscribe((event) => {
      if (event.requestId === requestId) received.push(event);
    });

    const client = { ip: '127.0.0.1', userAgent: 'audit-spec/1', requestId };
    const succeeded = events.emit({ type: AuthEventType.LoginSucceeded, userId: user.userId, sessionId: user.sessionId, ...client });
    events.emit({ type: AuthEventType.LoginFailed, userId: user.userId, ...client, detail: { reason: 'wrong_password' } });
    // Synchronous: the caller gets the recorded event back, not a promise.
    expect(succeeded).not.toBeInstanceOf(Promise);
    expect(Object.isFrozen(succeeded)).toBe(true);
    expect(received.map((event) => event.type)).toEqual(['login_succeeded', 'login_failed']);
    expect(received[0]).toBe(succeeded);

    // Written by the writer's own timer: nobody calls flush here.
    const rows = await rowsArrive(requestId, 2);
    expect(rows.map(({ type, user_id, session_id, ip, user_agent, detail }) => ({ type, user_id, session_id, ip, user_agent, detail }))).toEqual([
      { type: 'login_succeeded', user_id: user.userId, session_id: user.sessionId, ip: '127.0.0.1', user_agent: 'audit-spec/1', detail: {} },
      { type: 'login_failed', user_id: user.userId, session_id: null, ip: '127.0.0.1', user_agent: 'audit-spec/1', detail: { reason: 'wrong_password' } },
    ]);
    expect(rows[0].at.getTime()).toBe(succeeded.at.getTime());

    unsubscribe();
    unsubscribe();
    events.emit({ type: AuthEventType.SessionRevoked, ...client, detail: { reason: 'logout' } });
    expect(received).toHaveLength(2);
    await events.flush();
    expect((await rowsOf(requestId)).map((row) => row.type)).toEqual(['login_succeeded', 'login_failed', 'session_revoked']);
  });

  it('are written however a subscriber fails, and the failure reaches neither the emitter nor the other subscribers', async () => {
    const requestId = `audit-${randomUUID()}`;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const received: string[] = [];
    const stops = [
      events.subscribe(() => {
        throw new Error('a throwing subscriber');
      }),
      events.subscribe(async () => {
        throw new Error('a rejecting subscriber');
      }),
      events.subscribe((event) => {
        if (event.requestId === requestId) received.push(event.type);
      }),
    ];
    try {
      expect(() => events.emit({ type: AuthEventType.PasswordChanged, userId: 'u-throw', requestId })).not.toThrow();
      expect(() => events.emit({ type: AuthEventType.AccountDisabled, userId: 'u-throw', requestId })).not.toThrow();
      expect(received).toEqual(['password_changed', 'account_disabled']);
      expect(await events.flush()).toBe(true);
      expect((await rowsOf(requestId)).map((row) => row.type)).toEqual(['password_changed', 'account_disabled']);
      await sleep(20);
      expect(unhandled).toEqual([]);
      // And the app serves on.
      expect((await app.request('GET', '/health')).status).toBe(200);
    } finally {
      for (const stop of stops) stop();
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lose only the one event the database refuses, not its batch', async () => {
    const requestId = `audit-${randomUUID()}`;
    const writer = app.app.get(AuditWriter);
    const good = (seq: number) => events.emit({ type: AuthEventType.AccountEnabled, requestId, detail: { seq } });
    good(0);
    // Past toAuthEvent's checks, straight into the queue: a session id the uuid column refuses.
    writer.enqueue({ ...toAuthEvent({ type: AuthEventType.AccountEnabled, requestId, detail: { seq: 99 } }), sessionId: 'not-a-uuid' });
    good(1);
    expect(await events.flush()).toBe(true);
    expect((await rowsOf(requestId)).map((row) => row.detail.seq)).toEqual([0, 1]);
    expect(writer.stats.queued).toBe(0);
  });

  it('never hold a password, token, cookie or hash: a check on the whole table', async () => {
    const user = await registerAndLogin(app, 'audit-secrets');
    const requestId = `audit-${randomUUID()}`;
    const [{ password_hash: passwordHash }] = (await db.query('SELECT password_hash FROM auth_users WHERE id = $1', [user.userId])).rows;
    // What a careless caller might hand over, under telling keys and under innocent ones.
    events.emit({
      type: AuthEventType.PasswordChanged,
      userId: user.userId,
      sessionId: user.sessionId,
      requestId,
      detail: {
        password: PASSWORD,
        newPassword: PASSWORD,
        refreshToken: user.refreshToken,
        cookie: `__Host-refresh=${user.refreshToken}`,
        passwordHash,
        note: user.refreshToken,
        bearer: `Bearer ${user.accessToken}`,
        jwt: user.accessToken,
        previous: passwordHash,
        reason: 'password_change',
      } as never,
    });
    events.emit({ type: AuthEventType.RolesChanged, userId: user.userId, requestId, detail: { from: ['user'], to: ['admin', user.accessToken] } });
    await events.flush();
    expect((await rowsOf(requestId)).map((row) => row.detail)).toEqual([
      { note: '[redacted]', previous: '[redacted]', reason: 'password_change' },
      { from: ['user'], to: ['admin', '[redacted]'] },
    ]);

    // Every row of the table, whoever emitted it (the service's own events included).
    const table = (await db.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM auth_events e')).rows.map((r) => r.row).join('\n');
    expect(table.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, user.refreshToken, user.accessToken, user.accessToken.split('.')[2], passwordHash]) {
      expect(table).not.toContain(secret);
    }
    expect(table).not.toMatch(/\$argon2|"eyJ|Bearer /);
  });
});

describe('the audit writer when the database goes away', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  let events: AuthEvents;
  let writer: AuditWriter;
  beforeAll(async () => {
    const through = await proxyToTestDatabase();
    proxy = through.proxy;
    app = await startTestApp({}, through.url);
    events = app.app.get(AuthEvents);
    writer = app.app.get(AuditWriter);
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
  });

  it('keeps emitting without waiting, and writes what was queued once the database is back', async () => {
    const requestId = `audit-${randomUUID()}`;
    await proxy.cut();
    for (let seq = 0; seq < 30; seq++) {
      const event = events.emit({ type: AuthEventType.LoginFailed, userId: `outage-${seq}`, requestId, detail: { seq } });
      expect(event.detail.seq).toBe(seq);
    }
    // The write fails, and says so without throwing; nothing is lost.
    expect(await events.flush()).toBe(false);
    expect(writer.stats.queued).toBe(30);
    await sleep(500);
    expect(writer.stats.queued).toBe(30);
    expect(await rowsOf(requestId)).toEqual([]);

    await proxy.restore();
    const rows = await rowsArrive(requestId, 30);
    expect(rows.map((row) => row.detail.seq)).toEqual(Array.from({ length: 30 }, (_, seq) => seq));
    expect(rows.map((row) => row.user_id)).toEqual(Array.from({ length: 30 }, (_, seq) => `outage-${seq}`));
    expect(writer.stats.queued).toBe(0);
  });

  it('holds a bounded queue: past its capacity the oldest events are dropped and counted', async () => {
    const requestId = `audit-${randomUUID()}`;
    const extra = 25;
    const droppedBefore = writer.stats.dropped;
    await proxy.cut();
    for (let seq = 0; seq < AUDIT_QUEUE_CAPACITY + extra; seq++) {
      events.emit({ type: AuthEventType.LoginThrottled, requestId, detail: { seq } });
    }
    expect(writer.stats.queued).toBe(AUDIT_QUEUE_CAPACITY);
    expect(writer.stats.dropped - droppedBefore).toBe(extra);
    expect(await events.flush()).toBe(false);
    expect(writer.stats.queued).toBe(AUDIT_QUEUE_CAPACITY);

    await proxy.restore();
    const rows = await rowsArrive(requestId, AUDIT_QUEUE_CAPACITY);
    expect(rows).toHaveLength(AUDIT_QUEUE_CAPACITY);
    expect(rows[0].detail.seq).toBe(extra);
    expect(rows.at(-1)!.detail.seq).toBe(AUDIT_QUEUE_CAPACITY + extra - 1);
    expect(new Set(rows.map((row) => row.detail.seq)).size).toBe(AUDIT_QUEUE_CAPACITY);
  });
});

it('the audit writer writes what is queued when the app shuts down', async () => {
  const app = await startTestApp();
  const requestId = `audit-${randomUUID()}`;
  const writer = app.app.get(AuditWriter);
  const events = app.app.get(AuthEvents);
  for (let seq = 0; seq < 3; seq++) events.emit({ type: AuthEventType.AccountEnabled, requestId, detail: { seq } });
  // Closed at once, before the writer's timer: the shutdown itself writes them.
  expect(writer.stats.queued).toBe(3);
  await app.close();
  expect(writer.stats.queued).toBe(0);
  expect((await rowsOf(requestId)).map((row) => row.detail.seq)).toEqual([0, 1, 2]);
});
