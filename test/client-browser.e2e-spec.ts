import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

// Three tabs of one browser, on another origin than the API, hammering it for 30 s while their
// access tokens live 2 s: nobody is signed out by a race, the tabs share tokens, one refresher's worth
// of rotations happen, a tab that slept past the grace does not present a stale token, and a logout
// in one tab reaches the others at once.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '..');
const ACCESS_TTL_S = 2;
const GRACE_S = 3;
const RUN_MS = 30_000;
const SLEEP_AT_MS = 8_000;
const SLEEP_MS = (GRACE_S + 2) * 1000;

const available = existsSync(CHROMIUM);
// CI must not pass by skipping: there a missing browser fails the spec.
const describeInBrowser = available || process.env.CI === 'true' ? describe : describe.skip;

interface Recorded {
  at: number;
  answeredAt: number;
  path: string;
  accessToken: string | null;
  /** Body transport: the JSON body of a refresh, with the refresh token presented. */
  presented: string | null;
  status: number;
  code?: string;
  issued?: string;
}

interface TabEvent {
  at: number;
  sessionId: string | null;
  type: string;
  reason?: string;
}

/** What test/fixtures/client-page/page.js puts on each tab's global object. */
interface Harness {
  client: { login(credentials: { email: string; password: string }): Promise<unknown>; logout(): Promise<void> };
  events: TabEvent[];
  requests: Recorded[];
  run(ms: number): Promise<number[]>;
}

declare global {
  // eslint-disable-next-line no-var
  var harness: Harness;
}

/** The page, the compiled client (dist/src/client) and openapi-fetch's ESM build, on their own origin. */
async function servePage(): Promise<{ origin: string; close(): Promise<void> }> {
  const files: Record<string, string> = {
    '/': join(ROOT, 'test/fixtures/client-page/index.html'),
    '/page.js': join(ROOT, 'test/fixtures/client-page/page.js'),
    '/vendor/openapi-fetch.mjs': join(ROOT, 'node_modules/openapi-fetch/dist/index.mjs'),
  };
  const server = http.createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    const client = /^\/client\/([\w.-]+\.js)$/.exec(path);
    const file = client ? join(ROOT, 'dist/src/client', client[1]) : files[path];
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(condition: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describeInBrowser('client in three browser tabs (Chromium)', () => {
  let page: { origin: string; close(): Promise<void> };
  let app: TestApp;
  let browser: Browser;
  let db: pg.Pool;

  beforeAll(async () => {
    if (!available) throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
    page = await servePage();
    app = await startTestApp({
      ACCESS_TOKEN_TTL: `${ACCESS_TTL_S}s`,
      JWT_CLOCK_SKEW: '0s',
      REFRESH_REUSE_GRACE: `${GRACE_S}s`,
      CORS_ORIGINS: page.origin,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await page?.close();
    await db?.end();
  });

  const serverSide = async (sessionId: string) => {
    const session = await db.query<{ generation: number; revoked_at: Date | null }>('SELECT generation, revoked_at FROM auth_sessions WHERE id = $1', [sessionId]);
    const reuse = await db.query<{ count: string }>(`SELECT count(*) FROM auth_events WHERE session_id = $1 AND type = 'refresh_reuse_detected'`, [sessionId]);
    return { ...session.rows[0], reuseDetected: Number(reuse.rows[0].count) };
  };

  describe.each(['cookie', 'body'] as const)('%s transport', (transport) => {
    let context: BrowserContext;
    let tabs: Page[];
    afterAll(() => context?.close());

    it(
      'runs 30 s of requests in 3 tabs with no sign-out and no reuse, sharing tokens; then one logout signs out all three',
      async () => {
        const email = uniqueEmail(`browser-${transport}`);
        expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
        context = await browser.newContext();
        tabs = [];
        for (let i = 0; i < 3; i++) {
          const tab = await context.newPage();
          await tab.goto(`${page.origin}/?api=${encodeURIComponent(app.baseUrl)}&transport=${transport}`);
          await tab.waitForFunction(() => globalThis.harness !== undefined);
          tabs.push(tab);
        }
        const [first, , third] = tabs;

        // A sign-in in one tab reaches the others without a request of theirs.
        await first.evaluate((credentials) => globalThis.harness.client.login(credentials).then(() => undefined), { email, password: PASSWORD });
        await until(async () => (await Promise.all(tabs.map((tab) => tab.evaluate(() => globalThis.harness.events.length)))).every((n) => n > 0), 2000);
        const events = () => Promise.all(tabs.map((tab) => tab.evaluate(() => globalThis.harness.events)));
        const sessionId = (await events())[0][0].sessionId!;
        expect((await events()).map((tab) => tab.map(({ type, sessionId: id }) => [type, id]))).toEqual(Array(3).fill([['signed_in', sessionId]]));

        // 30 s of random requests in every tab; the third tab sleeps (its JavaScript paused, every
        // broadcast to it lost) for longer than the grace, then wakes up and carries on.
        const started = Date.now();
        const runs = Promise.all(tabs.map((tab) => tab.evaluate((ms) => globalThis.harness.run(ms), RUN_MS)));
        await sleep(SLEEP_AT_MS);
        const debuggerOfThird = await context.newCDPSession(third);
        await debuggerOfThird.send('Debugger.enable');
        await debuggerOfThird.send('Debugger.pause');
        await sleep(SLEEP_MS);
        const wokeAt = Date.now();
        await debuggerOfThird.send('Debugger.resume');
        await debuggerOfThird.send('Debugger.disable');
        const statuses = await runs;
        const ranMs = Date.now() - started;

        const recorded = await Promise.all(tabs.map((tab) => tab.evaluate(() => globalThis.harness.requests)));
        const all = recorded.flat().sort((a, b) => a.at - b.at);
        expect(statuses.flat().length).toBeGreaterThan(150);
        expect(statuses.flat().filter((status) => status !== 200)).toEqual([]);
        expect((await events()).flat().filter(({ type }) => type === 'signed_out')).toEqual([]);
        expect(all.filter(({ code }) => code === 'refresh_token_reused')).toEqual([]);
        const server = await serverSide(sessionId);
        expect(server).toMatchObject({ revoked_at: null, reuseDetected: 0 });

        // One refresher's worth of rotations (exp is whole seconds: about one per TTL − 1 s), not one per tab.
        const refreshes = all.filter(({ path, status }) => path === '/auth/refresh' && status === 200);
        expect(server.generation).toBeGreaterThan(0);
        expect(server.generation).toBeLessThanOrEqual(Math.ceil(ranMs / ((ACCESS_TTL_S - 1) * 1000)) + 2);
        expect(refreshes.length).toBeLessThanOrEqual(server.generation + 2);
        // The tabs use the same access tokens: no more of them than the login's and the refreshes' issued.
        const used = recorded.map((tab) => new Set(tab.filter(({ path }) => path === '/auth/claims').map(({ accessToken }) => accessToken)));
        const union = new Set(used.flatMap((tab) => [...tab]));
        expect(union.size).toBeLessThanOrEqual(refreshes.length + 1);
        expect(used.every((tab) => tab.size > 0)).toBe(true);

        // The sleeper, once awake, carried on (every request above succeeded) and presented no stale token:
        // with the body transport every refresh token any tab presented was the newest issued before; with the
        // cookie the browser sends the newest, and the lock keeps presentations one at a time.
        const issued = all.filter(({ path, status }) => (path === '/auth/refresh' || path === '/auth/login') && status === 200);
        const newestBefore = (at: number) => issued.filter((request) => request.answeredAt <= at).at(-1);
        expect(recorded[2].filter(({ at }) => at >= wokeAt).length).toBeGreaterThan(0);
        if (transport === 'body') {
          const presented = all.filter(({ path, presented }) => path === '/auth/refresh' && presented);
          const stale = presented.filter((request) => JSON.parse(request.presented!).refreshToken !== newestBefore(request.at)?.issued);
          expect(stale).toEqual([]);
        }

        // Logout in one tab: all three are signed out within a fraction of a second.
        const loggedOutAt = await first.evaluate(async () => {
          const at = Date.now();
          await globalThis.harness.client.logout();
          return at;
        });
        await until(async () => (await events()).every((tab) => tab.some(({ type }) => type === 'signed_out')), 2000);
        const signOuts = (await events()).map((tab) => tab.filter(({ type }) => type === 'signed_out'));
        expect(signOuts.map((tab) => tab.map(({ reason }) => reason))).toEqual(Array(3).fill(['logout']));
        for (const [signOut] of signOuts) expect(signOut.at - loggedOutAt).toBeLessThan(1000);
        await until(async () => (await serverSide(sessionId)).revoked_at !== null, 2000);
      },
      120_000,
    );
  });
});
