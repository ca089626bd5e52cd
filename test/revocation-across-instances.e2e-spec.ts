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
  let app: TestApp;

  async function transactions(): Promise<number> {
    // Backends flush their statistics about once a second.
    await sleep(1200);
    await admin.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await admin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0].n);
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${database}`;
    const { migrateDatabase } = await import('../src/database/migrate.js');
    await migrateDatabase(url.toString());
    app = await startTestApp({}, url.toString());
  });
  afterAll(async () => {
    await app.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('serves 500 authenticated requests with no transaction of theirs in pg_stat_database', async () => {
    const { accessToken } = await registerAndLogin(app, 'xact');
    const before = await transactions();
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => app.request('GET', '/auth/claims', { token: accessToken })),
      );
      expect(responses.every((response) => response.status === 200)).toBe(true);
    }
    const after = await transactions();
    // The feed's heartbeat (one SELECT every 2 s) is all that may show; 500 requests would show 500.
    expect(after - before).toBeLessThanOrEqual(3);
  });
});
