import pg from 'pg';
import { startTestApp, type TestApp } from './support/test-app.js';
import { proxyToTestDatabase, type TcpProxy } from './support/tcp-proxy.js';
import { login, PASSWORD, registerAndLogin } from './support/users.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `app` refuses `token` with session_revoked; resolves with how long that took, or rejects after 1 s. */
async function refusedWithinOneSecond(app: TestApp, token: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 1000) {
    const response = await app.request('GET', '/auth/claims', { token });
    if (response.status === 401) {
      expect(response.body.code).toBe('session_revoked');
      return Date.now() - started;
    }
    expect(response.status).toBe(200);
    await sleep(10);
  }
  throw new Error('the other instance still accepts the token after 1 s');
}

describe('revocation reaches every instance', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp({ REFRESH_REUSE_GRACE: '0' }), startTestApp({ REFRESH_REUSE_GRACE: '0' })]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('logout on one instance is refused on the other within one second', async () => {
    const user = await registerAndLogin(a, 'xi-logout');
    expect((await b.request('GET', '/auth/claims', { token: user.accessToken })).status).toBe(200);
    expect((await a.request('POST', '/auth/logout', { token: user.accessToken })).status).toBe(204);
    await refusedWithinOneSecond(b, user.accessToken);
  });

  it('logout-all, session deletion and password change reach the other instance', async () => {
    const user = await registerAndLogin(a, 'xi-many');
    const second = await login(a, user.email);
    const third = await login(a, user.email);
    const fourth = await login(a, user.email);

    expect((await a.request('DELETE', `/auth/sessions/${second.sessionId}`, { token: user.accessToken })).status).toBe(204);
    await refusedWithinOneSecond(b, second.accessToken);

    const changed = await a.request('POST', '/auth/password', {
      token: user.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'another good password' },
    });
    expect(changed.status).toBe(204);
    await refusedWithinOneSecond(b, third.accessToken);
    expect((await b.request('GET', '/auth/claims', { token: user.accessToken })).status).toBe(200);

    const fifth = await login(a, user.email, 'another good password');
    expect((await a.request('POST', '/auth/logout-all', { token: fifth.accessToken })).status).toBe(204);
    await refusedWithinOneSecond(b, user.accessToken);
    await refusedWithinOneSecond(b, fifth.accessToken);
    expect((await b.request('GET', '/auth/claims', { token: fourth.accessToken })).status).toBe(401);
  });

  it('reuse detected on one instance kills the family on the other', async () => {
    const user = await registerAndLogin(a, 'xi-reuse');
    expect((await a.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
    const reused = await a.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(reused.body.code).toBe('refresh_token_reused');
    await refusedWithinOneSecond(b, user.accessToken);
  });

  it('an instance started after a revocation refuses the revoked session', async () => {
    const user = await registerAndLogin(a, 'xi-late');
    expect((await a.request('POST', '/auth/logout', { token: user.accessToken })).status).toBe(204);
    const late = await startTestApp();
    try {
      const response = await late.request('GET', '/auth/claims', { token: user.accessToken });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('session_revoked');
    } finally {
      await late.close();
    }
  });
});

describe('when the revocation feed is cut', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  beforeAll(async () => {
    const through = await proxyToTestDatabase();
    proxy = through.proxy;
    app = await startTestApp({ REVOCATION_MAX_STALENESS: '1' }, through.url);
  });
  afterAll(async () => {
    await app.close();
    await proxy.stop();
  });

  it('fails closed with 503 beyond the staleness bound, then recovers by itself', async () => {
    const user = await registerAndLogin(app, 'feed-cut');
    await proxy.cut();
    // Within the bound the memory is still trusted.
    expect((await app.request('GET', '/auth/claims', { token: user.accessToken })).status).toBe(200);
    await sleep(1500);
    const stale = await app.request('GET', '/auth/claims', { token: user.accessToken });
    expect(stale.status).toBe(503);
    expect(stale.body.code).toBe('service_unavailable');

    await proxy.restore();
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      await sleep(100);
      status = (await app.request('GET', '/auth/claims', { token: user.accessToken })).status;
    }
    expect(status).toBe(200);
  });
});

describe('authenticated requests cost the database nothing', () => {
  const database = `auth_xact_test_${process.pid}`;
  let admin: pg.Client;
  let url: string;

  async function transactions(): Promise<number> {
    await admin.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await admin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0].n);
  }

  /**
   * Transactions one app instance causes in the dedicated database from start to close. A live
   * backend may hold its counts back for up to 10 s; closing the app ends its backends, which flush
   * them as they exit, so the count is complete.
   */
  async function transactionsOf(work: (app: TestApp) => Promise<void>): Promise<number> {
    const before = await transactions();
    const app = await startTestApp({}, url);
    await work(app);
    await app.close();
    await sleep(500);
    return (await transactions()) - before;
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    const target = new URL(process.env.TEST_DATABASE_URL!);
    target.pathname = `/${database}`;
    url = target.toString();
    const { migrateDatabase } = await import('../src/database/migrate.js');
    await migrateDatabase(url);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('serves 500 authenticated requests with no transaction of theirs in pg_stat_database', async () => {
    let accessToken = '';
    await transactionsOf(async (app) => {
      accessToken = (await registerAndLogin(app, 'xact')).accessToken;
    });
    const request = (app: TestApp, path: string) => app.request('GET', path, { token: accessToken });

    const idle = await transactionsOf(async () => {});
    const claims = await transactionsOf(async (app) => {
      for (let batch = 0; batch < 10; batch++) {
        const responses = await Promise.all(Array.from({ length: 50 }, () => request(app, '/auth/claims')));
        expect(responses.every((response) => response.status === 200)).toBe(true);
      }
    });
    // A control through the same measurement: a route that reads the user does show up, once per request.
    const me = await transactionsOf(async (app) => {
      for (let count = 0; count < 20; count++) expect((await request(app, '/users/me')).status).toBe(200);
    });

    // Start-up and close (the feed's load, a heartbeat) cost the same few in every run; 500 requests would add 500.
    expect(claims - idle).toBeLessThanOrEqual(3);
    expect(me - idle).toBeGreaterThanOrEqual(20);
  });
});
