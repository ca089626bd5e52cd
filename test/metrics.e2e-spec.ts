import pg from 'pg';
import { LoginOutcome, RefreshOutcome } from '../src/auth/index.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

// API.md "Operating it": GET /metrics in Prometheus' text format, each named series present and moving
// with the requests that feed it.
let app: TestApp;
let db: pg.Client;

beforeAll(async () => {
  // Strict mode, so a second presentation is reuse at once.
  app = await startTestApp({ REFRESH_REUSE_GRACE: '0' });
  db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await app?.close();
  await db?.end();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(target = app): Promise<Sample[]> {
  const response = await target.request('GET', '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return (response.body as string)
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = /^([a-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      return { name, labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, text]) => [key, text])), value: Number(value) };
    });
}

/** The value of the series `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, text]) => sample.labels[key] === text))?.value;
}

/** How much each of `series` moved while `action` ran. */
async function moved(series: [string, Record<string, string>][], action: () => Promise<unknown>): Promise<number[]> {
  const before = await scrape();
  await action();
  const after = await scrape();
  return series.map(([name, labels]) => (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0));
}

const logins = (outcome: string): [string, Record<string, string>] => ['auth_logins_total', { outcome }];
const refreshes = (outcome: string): [string, Record<string, string>] => ['auth_refreshes_total', { outcome }];

describe('GET /metrics', () => {
  it('has every outcome series from the start, the feed gauge at 1 and the process defaults', async () => {
    const samples = await scrape();
    for (const outcome of Object.values(LoginOutcome)) expect(valueOf(samples, ...logins(outcome))).toBe(0);
    for (const outcome of Object.values(RefreshOutcome)) expect(valueOf(samples, ...refreshes(outcome))).toBe(0);
    expect(valueOf(samples, 'auth_revocation_feed_connected')).toBe(1);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts a succeeded, a failed and a disabled login', async () => {
    const user = await registerAndLogin(app, 'metrics-login');
    const login = (password: string) => app.request('POST', '/auth/login', { body: { email: user.email, password } });
    expect(await moved([logins('succeeded'), logins('failed')], async () => expect((await login(PASSWORD)).status).toBe(200))).toEqual([1, 0]);
    expect(await moved([logins('succeeded'), logins('failed')], async () => expect((await login('wrong password!')).status).toBe(401))).toEqual([0, 1]);
    await db.query('UPDATE auth_users SET disabled_at = now() WHERE id = $1', [user.userId]);
    expect(await moved([logins('disabled'), logins('failed')], async () => expect((await login(PASSWORD)).body.code).toBe('account_disabled'))).toEqual([1, 0]);
  });

  it('counts a rotation, a reuse, a refresh of the revoked family and an invalid token', async () => {
    const user = await registerAndLogin(app, 'metrics-refresh');
    const refresh = (refreshToken: string) => app.request('POST', '/auth/refresh', { body: { refreshToken } });
    let rotated = '';
    expect(
      await moved([refreshes('rotated'), refreshes('reused')], async () => {
        const response = await refresh(user.refreshToken);
        expect(response.status).toBe(200);
        rotated = response.body.refreshToken;
      }),
    ).toEqual([1, 0]);
    expect(await moved([refreshes('reused'), refreshes('rotated')], async () => expect((await refresh(user.refreshToken)).body.code).toBe('refresh_token_reused'))).toEqual([1, 0]);
    expect(await moved([refreshes('revoked')], async () => expect((await refresh(rotated)).body.code).toBe('session_revoked'))).toEqual([1]);
    const forged = `${rotated.slice(0, -4)}AAAA`;
    expect(await moved([refreshes('invalid')], async () => expect((await refresh(forged)).body.code).toBe('refresh_token_invalid'))).toEqual([1]);
  });

  it('times requests by route template and status, never by raw URL; unknown routes under one label', async () => {
    const user = await registerAndLogin(app, 'metrics-http');
    const sessionRoute = { method: 'DELETE', route: '/auth/sessions/:id', status_code: '204' };
    const unknown = { method: 'GET', route: 'unmatched', status_code: '404' };
    const live = { method: 'GET', route: '/health/live', status_code: '200' };
    const count = 'http_request_duration_seconds_count';
    expect(
      await moved([[count, sessionRoute], [count, unknown], [count, live]], async () => {
        expect((await app.request('DELETE', `/auth/sessions/${user.sessionId}`, { token: user.accessToken })).status).toBe(204);
        expect((await app.request('GET', `/no/such/${user.sessionId}`)).status).toBe(404);
        expect((await app.request('GET', '/health/live')).status).toBe(200);
        expect((await app.request('GET', '/health/live')).status).toBe(200);
      }),
    ).toEqual([1, 1, 2]);
    const samples = await scrape();
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { ...live, le: '+Inf' })).toBe(valueOf(samples, count, live));
    expect(samples.some((sample) => Object.values(sample.labels).some((text) => text.includes(user.sessionId)))).toBe(false);
  });

  it('counts a login refused by the rate limit as throttled', async () => {
    const limited = await startTestApp({ RATE_LIMIT: 'on' });
    try {
      const email = uniqueEmail('metrics-throttled');
      const before = await scrape(limited);
      const statuses: number[] = [];
      // 10 attempts per account in 5 minutes; the 11th is refused before any password check.
      for (let attempt = 0; attempt < 11; attempt++) {
        statuses.push((await limited.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status);
      }
      expect(statuses).toEqual([...Array.from({ length: 10 }, () => 401), 429]);
      const after = await scrape(limited);
      const delta = (outcome: string) => valueOf(after, ...logins(outcome))! - valueOf(before, ...logins(outcome))!;
      expect([delta('failed'), delta('throttled')]).toEqual([10, 1]);
    } finally {
      await limited.close();
    }
  });

  it('is not there with METRICS=off', async () => {
    const off = await startTestApp({ METRICS: 'off' });
    try {
      expect((await off.request('GET', '/metrics')).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
