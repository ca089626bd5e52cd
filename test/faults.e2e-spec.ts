import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { GRACE_MARGIN_MS, graceTiming, isTokenPairOf, REFRESH_TOKEN_SHAPE, type Window } from './support/refresh-model.js';
import { freePort, httpRequest, type ServiceProcess, startServiceProcess } from './support/service-process.js';
import { proxyToTestDatabase, type TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

// Faults: the database going away in the middle of traffic, and the service killed (SIGKILL) in the
// middle of rotations. Whatever the clients saw, afterwards (API.md "Rotation and reuse detection",
// "Errors": no half-written state) every session they hold works with its latest token, or converges
// from the token before it when the answer to a rotation was lost; no family has two working tokens;
// revoked stays revoked; and the rows of auth_sessions agree with what the clients were told.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded PRNG (mulberry32), so the traffic's choices are the same every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SessionRow {
  id: string;
  user_id: string;
  generation: number;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

let db: pg.Pool;
beforeAll(() => {
  db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 3 });
});
afterAll(() => db.end());

async function sessionRows(userIds: string[]): Promise<SessionRow[]> {
  const { rows } = await db.query<SessionRow>(
    'SELECT id, user_id, generation, revoked_at, revoked_reason FROM auth_sessions WHERE user_id = ANY($1::text[]) ORDER BY id',
    [userIds],
  );
  return rows;
}

async function register(baseUrl: string, label: string): Promise<{ id: string; email: string }> {
  const email = uniqueEmail(label);
  const response = await httpRequest(baseUrl, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
  expect(response.status).toBe(201);
  return { id: response.body.id, email };
}

async function loginAt(baseUrl: string, email: string): Promise<TestResponse> {
  const response = await httpRequest(baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  expect(response.status).toBe(200);
  return response;
}

// ---- a: the database goes away ---------------------------------------------------------------

/** A session as one client holds it. */
interface Held {
  id: string;
  userId: string;
  /** Every refresh token the client was handed for it, in order. */
  tokens: string[];
  accessTokens: string[];
  /** A refresh was answered 503: it may or may not have rotated; the client retries with the same token. */
  refreshUnanswered: boolean;
  /** A logout was answered 503: the client retries it. */
  logoutUnanswered: boolean;
  ended: boolean;
}

interface Exchange {
  op: string;
  sentAt: number;
  receivedAt: number;
  status: number;
  code?: string;
}

const HANG_BOUND_MS = 8_000;
// Needs the database: answered 503 while it is unreachable.
const NEEDS_DATABASE = new Set(['login', 'refresh', 'logout', 'me']);

describe('a Postgres outage in the middle of mixed traffic', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  beforeAll(async () => {
    const through = await proxyToTestDatabase();
    proxy = through.proxy;
    // A grace longer than the outage and its recovery: a refresh whose answer was lost is retried within it.
    app = await startTestApp({ RATE_LIMIT: 'off', REFRESH_REUSE_GRACE: '30', DB_POOL_SIZE: '10' }, through.url);
  });
  afterAll(async () => {
    await app.close();
    await proxy.stop();
  });

  it('answers 503 (never 500, never a hang) while it is down, and leaves every session consistent', async () => {
    const exchanges: Exchange[] = [];
    const violations: string[] = [];
    const users = await Promise.all(['outage-a', 'outage-b', 'outage-c', 'outage-d'].map((label) => register(app.baseUrl, label)));
    const held: Held[] = [];
    const logins503 = { count: 0 };
    for (const user of users) {
      const responses = await Promise.all([0, 1, 2].map(() => loginAt(app.baseUrl, user.email)));
      for (const response of responses) held.push(heldOf(response, user.id));
    }

    let stopAt = Infinity;
    let cutStartedAt = Infinity;
    let cutDoneAt = Infinity;
    let restoreAt = Infinity;
    let recoveredAt = Infinity;

    /** Sends, times and classifies one request; undefined when no answer came within the bound. */
    async function send(op: string, method: string, path: string, options: { body?: unknown; token?: string }): Promise<TestResponse | undefined> {
      const sentAt = Date.now();
      let response: TestResponse;
      try {
        response = await httpRequest(app.baseUrl, method, path, { ...options, timeoutMs: HANG_BOUND_MS });
      } catch (error) {
        violations.push(`${op}: no answer within ${HANG_BOUND_MS} ms (${(error as Error).message})`);
        return undefined;
      }
      const receivedAt = Date.now();
      const exchange = { op, sentAt, receivedAt, status: response.status, code: response.body?.code };
      exchanges.push(exchange);
      if (response.status >= 500 && !(response.status === 503 && response.body?.code === 'service_unavailable')) {
        violations.push(`${op}: ${response.status} ${JSON.stringify(response.body)}`);
      }
      if (response.status === 503 && (receivedAt < cutStartedAt || sentAt >= recoveredAt)) {
        violations.push(`${op}: 503 while the database was reachable (${sentAt - cutStartedAt} ms after the cut began)`);
      }
      if (NEEDS_DATABASE.has(op) && sentAt >= cutDoneAt && receivedAt <= restoreAt && response.status !== 503) {
        violations.push(`${op}: ${response.status} while the database was unreachable`);
      }
      return response;
    }

    async function refresh(session: Held, copies: number): Promise<void> {
      const presented = session.tokens.at(-1)!;
      const responses = await Promise.all(
        Array.from({ length: copies }, () => send('refresh', 'POST', '/auth/refresh', { body: { refreshToken: presented } })),
      );
      const successors = new Set<string>();
      for (const response of responses) {
        if (!response || response.status === 503) continue;
        if (!isTokenPairOf(response, session.id)) {
          violations.push(`refresh of a live session (${session.refreshUnanswered ? 'retry after a 503' : 'first try'}): ${response.status} ${response.body?.code}`);
          continue;
        }
        successors.add(response.body.refreshToken);
        session.accessTokens.push(response.body.accessToken);
      }
      if (successors.size > 1) violations.push(`one token, presented ${copies} times at once, got ${successors.size} different successors`);
      const [successor] = successors;
      if (successor === undefined) {
        session.refreshUnanswered = true;
        return;
      }
      // A rotation, or (after a lost answer) the grace answer with the successor: either way a token not seen before.
      if (session.tokens.includes(successor)) violations.push(`refresh answered with generation ${session.tokens.indexOf(successor)} of ${session.tokens.length - 1} again`);
      else session.tokens.push(successor);
      session.refreshUnanswered = false;
    }

    async function logout(session: Held, byBearer: boolean): Promise<void> {
      const response = byBearer
        ? await send('logout', 'POST', '/auth/logout', { token: session.accessTokens.at(-1) })
        : await send('logout', 'POST', '/auth/logout', { body: { refreshToken: session.tokens.at(-1) } });
      if (!response || response.status === 503) {
        session.logoutUnanswered = true;
        return;
      }
      // A retried logout may find the first one did revoke the session.
      if (response.status === 204 || (session.logoutUnanswered && response.status === 401 && response.body?.code === 'session_revoked')) {
        session.ended = true;
        session.logoutUnanswered = false;
        return;
      }
      violations.push(`logout: ${response.status} ${response.body?.code}`);
    }

    async function worker(userIndex: number): Promise<void> {
      const random = prng(0xfa17 + userIndex);
      const user = users[userIndex];
      while (Date.now() < stopAt) {
        const mine = held.filter((session) => session.userId === user.id);
        const pendingLogout = mine.find((session) => session.logoutUnanswered);
        const live = mine.filter((session) => !session.ended && !session.logoutUnanswered);
        const roll = random();
        if (pendingLogout) await logout(pendingLogout, random() < 0.5);
        else if (!live.length || roll < 0.07) {
          const response = await send('login', 'POST', '/auth/login', { body: { email: user.email, password: PASSWORD } });
          if (response?.status === 200) held.push(heldOf(response, user.id));
          else if (response?.status === 503) logins503.count++;
          else if (response) violations.push(`login: ${response.status} ${response.body?.code}`);
        } else {
          const session = live[Math.floor(random() * live.length)];
          if (session.refreshUnanswered || roll < 0.7) await refresh(session, random() < 0.2 ? 2 : 1);
          else if (roll < 0.85) {
            const response = await send('me', 'GET', '/users/me', { token: session.accessTokens.at(-1) });
            if (response && response.status !== 503 && !(response.status === 200 && response.body.id === user.id)) {
              violations.push(`GET /users/me of a live session: ${response.status} ${response.body?.code}`);
            }
          } else if (roll < 0.92) await logout(session, random() < 0.5);
          else {
            // Verified from memory, no database: works through the outage (within REVOCATION_MAX_STALENESS).
            const response = await send('claims', 'GET', '/auth/claims', { token: session.accessTokens.at(-1) });
            if (response && response.status !== 503 && !(response.status === 200 && response.body.sid === session.id)) {
              violations.push(`GET /auth/claims of a live session: ${response.status} ${response.body?.code}`);
            }
          }
        }
        await sleep(Math.floor(random() * 15));
      }
    }

    const workers = users.map((_, index) => worker(index));
    await sleep(700);
    cutStartedAt = Date.now();
    await proxy.cut();
    cutDoneAt = Date.now();
    await sleep(2000);
    restoreAt = Date.now();
    await proxy.restore();
    // Recovered: the database answers again and so does the revocation feed (a Bearer-only route works).
    const probe = held.find((session) => !session.ended && !session.logoutUnanswered)!;
    for (let attempt = 0; attempt < 100 && recoveredAt === Infinity; attempt++) {
      const [health, claims] = await Promise.all([
        httpRequest(app.baseUrl, 'GET', '/health', { timeoutMs: HANG_BOUND_MS }),
        httpRequest(app.baseUrl, 'GET', '/auth/claims', { token: probe.accessTokens.at(-1), timeoutMs: HANG_BOUND_MS }),
      ]);
      if (health.status === 200 && claims.status === 200) recoveredAt = Date.now();
      else await sleep(100);
    }
    expect(recoveredAt).toBeLessThan(Infinity);
    stopAt = Date.now() + 1000;
    await Promise.all(workers);

    // Every unanswered operation is retried until it has an answer: it must converge.
    for (const session of held) {
      for (let attempt = 0; attempt < 5 && session.logoutUnanswered; attempt++) await logout(session, attempt % 2 === 0);
      for (let attempt = 0; attempt < 5 && session.refreshUnanswered; attempt++) await refresh(session, 1);
      if (session.logoutUnanswered || session.refreshUnanswered) violations.push(`session ${session.id} did not converge after the outage`);
    }

    const during = exchanges.filter((exchange) => exchange.sentAt >= cutDoneAt && exchange.receivedAt <= restoreAt);
    const summary = {
      requests: exchanges.length,
      during: during.length,
      unavailable: exchanges.filter((exchange) => exchange.status === 503).length,
      sessions: held.length,
      ended: held.filter((session) => session.ended).length,
      logins503: logins503.count,
      slowestMs: Math.max(...exchanges.map((exchange) => exchange.receivedAt - exchange.sentAt)),
      recoveryMs: recoveredAt - restoreAt,
    };
    console.log(`outage: ${JSON.stringify(summary)}`);
    expect(violations).toEqual([]);
    // The outage really was in the middle of the traffic: requests before it, during it (refused), after it.
    expect(during.filter((exchange) => exchange.op === 'refresh').length).toBeGreaterThan(0);
    expect(exchanges.some((exchange) => exchange.receivedAt < cutStartedAt && exchange.op === 'refresh' && exchange.status === 200)).toBe(true);
    expect(exchanges.some((exchange) => exchange.sentAt >= recoveredAt && exchange.op === 'refresh' && exchange.status === 200)).toBe(true);

    // Every live session works with its latest token; presenting the token before it (inside the
    // grace) answers the very same new token: one working token per family, no branch.
    for (const session of held.filter((candidate) => !candidate.ended)) {
      const latest = session.tokens.at(-1)!;
      const rotated = await httpRequest(app.baseUrl, 'POST', '/auth/refresh', { body: { refreshToken: latest } });
      expect(isTokenPairOf(rotated, session.id)).toBe(true);
      expect(session.tokens).not.toContain(rotated.body.refreshToken);
      session.tokens.push(rotated.body.refreshToken);
      const again = await httpRequest(app.baseUrl, 'POST', '/auth/refresh', { body: { refreshToken: latest } });
      expect(isTokenPairOf(again, session.id)).toBe(true);
      expect(again.body.refreshToken).toBe(rotated.body.refreshToken);
      expect((await httpRequest(app.baseUrl, 'GET', '/users/me', { token: again.body.accessToken })).status).toBe(200);
      expect((await httpRequest(app.baseUrl, 'GET', '/users/me', { token: session.accessTokens[0] })).status).toBe(200);
    }
    // Revoked stays revoked: refresh and access tokens of every ended session are refused.
    for (const session of held.filter((candidate) => candidate.ended)) {
      const refused = await httpRequest(app.baseUrl, 'POST', '/auth/refresh', { body: { refreshToken: session.tokens.at(-1) } });
      expect({ status: refused.status, code: refused.body?.code }).toEqual({ status: 401, code: 'session_revoked' });
      for (const accessToken of [session.accessTokens[0], session.accessTokens.at(-1)!]) {
        const response = await httpRequest(app.baseUrl, 'GET', '/auth/claims', { token: accessToken });
        expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'session_revoked' });
      }
    }

    // The database agrees, with no half-written state: every session a client holds has exactly the
    // rotations the client saw; rows no client heard of (a login whose answer was lost) were never
    // used: nobody holds a token of theirs.
    const rows = await sessionRows(users.map((user) => user.id));
    const byId = new Map(held.map((session) => [session.id, session]));
    for (const session of held) {
      const row = rows.find((candidate) => candidate.id === session.id);
      expect({ id: session.id, generation: row?.generation, revoked: row?.revoked_reason ?? null }).toEqual({
        id: session.id,
        generation: session.tokens.length - 1,
        revoked: session.ended ? 'logout' : null,
      });
    }
    const unheardOf = rows.filter((row) => !byId.has(row.id));
    expect(unheardOf.length).toBeLessThanOrEqual(logins503.count);
    for (const row of unheardOf) expect({ generation: row.generation, revoked_at: row.revoked_at }).toEqual({ generation: 0, revoked_at: null });

    // And they can be ended like any other: logout-all reaches them too.
    for (const user of users) {
      const caller = held.find((session) => session.userId === user.id && !session.ended) ?? heldOf(await loginAt(app.baseUrl, user.email), user.id);
      expect((await httpRequest(app.baseUrl, 'POST', '/auth/logout-all', { token: caller.accessTokens.at(-1) })).status).toBe(204);
    }
    for (const row of await sessionRows(users.map((user) => user.id))) expect(row.revoked_at).not.toBeNull();
  }, 60_000);
});

function heldOf(login: TestResponse, userId: string): Held {
  expect(isTokenPairOf(login, login.body.sessionId)).toBe(true);
  return {
    id: login.body.sessionId,
    userId,
    tokens: [login.body.refreshToken],
    accessTokens: [login.body.accessToken],
    refreshUnanswered: false,
    logoutUnanswered: false,
    ended: false,
  };
}

// ---- b: the service is killed in the middle of rotations ------------------------------------------

const KILL_GRACE_S = 3;
const VICTIM_APPLICATION = `auth-kill-victim-${process.pid}`;

/** A family as the client that rotates it knows it. */
interface Family {
  id: string;
  userId: string;
  tokens: string[];
  /** The access tokens issued before the kill, and after. */
  accessTokens: string[];
  /** When the request whose answer the kill swallowed was sent (the token presented is tokens.at(-1)). */
  lostSentAt?: number;
  /** Revoked, and why, as the contract says it must be by now. */
  revoked: string | null;
}

describe('kill -9 in the middle of rotations', () => {
  const env: Record<string, string> = {};
  let survivor: ServiceProcess | undefined;
  let restarted: ServiceProcess | undefined;
  let victim: ServiceProcess | undefined;

  beforeAll(async () => {
    Object.assign(env, {
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      DATA_DIR: await mkdtemp(join(tmpdir(), 'auth-kill-')),
      // Fixed secrets, so tokens outlive the process that issued them.
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      REFRESH_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      RATE_LIMIT: 'off',
      REFRESH_REUSE_GRACE: String(KILL_GRACE_S),
      DB_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    for (const service of [victim, survivor, restarted]) if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  });

  it('keeps every family to one working token: the last token received works, or converges within the grace, else is reuse', async () => {
    const phases: Record<string, number> = {};
    let phaseStart = Date.now();
    const phase = (name: string) => {
      phases[name] = Date.now() - phaseStart;
      phaseStart = Date.now();
    };
    const [victimPort, survivorPort] = [await freePort(), await freePort()];
    // The victim's database connections carry a name of their own, to see when they are all gone.
    const victimUrl = new URL(process.env.TEST_DATABASE_URL!);
    victimUrl.searchParams.set('application_name', VICTIM_APPLICATION);
    [victim, survivor] = await Promise.all([
      startServiceProcess({ ...env, DATABASE_URL: victimUrl.toString() }, victimPort),
      startServiceProcess(env, survivorPort),
    ]);
    const a = victim.baseUrl;
    const b = survivor.baseUrl;
    phase('start');

    const users = await Promise.all([0, 1, 2, 3].map((index) => register(index % 2 ? a : b, `kill-${index}`)));
    const families: Family[] = [];
    for (const user of users) {
      const logins = await Promise.all([0, 1, 2, 3, 4, 5].map((index) => loginAt(index % 2 ? a : b, user.email)));
      for (const login of logins) {
        families.push({ id: login.body.sessionId, userId: user.id, tokens: [login.body.refreshToken], accessTokens: [login.body.accessToken], revoked: null });
      }
    }
    const violations: string[] = [];
    const orphanUser = await register(b, 'kill-orphans');
    let unansweredLogins = 0;
    phase('logins');

    // Every family rotates as fast as it can on the victim, now and then two copies at once.
    let killed = false;
    async function rotate(family: Family, index: number): Promise<void> {
      for (let round = 0; !killed; round++) {
        const presented = family.tokens.at(-1)!;
        const copies = (round + index) % 5 === 4 ? 2 : 1;
        const sentAt = Date.now();
        const settled = await Promise.allSettled(
          Array.from({ length: copies }, () => httpRequest(a, 'POST', '/auth/refresh', { body: { refreshToken: presented } })),
        );
        const answered = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
        const successors = new Set<string>();
        for (const response of answered) {
          if (isTokenPairOf(response, family.id)) {
            successors.add(response.body.refreshToken);
            family.accessTokens.push(response.body.accessToken);
          } else violations.push(`refresh before the kill: ${response.status} ${response.body?.code}`);
        }
        if (successors.size > 1) violations.push(`${copies} copies of one token got ${successors.size} successors`);
        const [successor] = successors;
        if (successor !== undefined) {
          if (family.tokens.includes(successor)) violations.push('a refresh answered an old token again');
          else family.tokens.push(successor);
        }
        if (answered.length < copies) {
          // The kill swallowed an answer; with none received, the presented token's rotation may or may not have committed.
          if (successor === undefined) family.lostSentAt = sentAt;
          return;
        }
      }
    }
    async function logInAgainAndAgain(): Promise<void> {
      while (!killed) {
        try {
          const response = await httpRequest(a, 'POST', '/auth/login', { body: { email: orphanUser.email, password: PASSWORD } });
          if (response.status !== 200) violations.push(`login before the kill: ${response.status}`);
          else families.push({ id: response.body.sessionId, userId: orphanUser.id, tokens: [response.body.refreshToken], accessTokens: [response.body.accessToken], revoked: null });
        } catch {
          unansweredLogins++;
          return;
        }
      }
    }
    const rotating = families.map((family, index) => rotate(family, index));
    const loggingIn = logInAgainAndAgain();
    // Mid-flight: once every family has rotated a few times.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && families.slice(0, 24).some((family) => family.tokens.length < 4)) await sleep(20);
    victim.child.kill('SIGKILL');
    const { at: exitAt, signal } = await victim.exited;
    killed = true;
    expect(signal).toBe('SIGKILL');
    await Promise.all([...rotating, loggingIn]);
    expect(violations).toEqual([]);
    // A COMMIT the victim sent just before dying may still be landing: wait until every database
    // backend of the victim has ended, so what is read below is final, and every rotation of the
    // victim happened before \`settledAt\`.
    let settledAt = 0;
    for (let attempt = 0; attempt < 250 && !settledAt; attempt++) {
      const { rows } = await db.query<{ left: number }>('SELECT count(*)::int AS left FROM pg_stat_activity WHERE application_name = $1', [
        VICTIM_APPLICATION,
      ]);
      if (rows[0].left === 0) settledAt = Date.now();
      else await sleep(20);
    }
    expect(settledAt).toBeGreaterThan(0);
    phase('rotations');

    // Nothing the victim answered is lost, nothing it did not answer is doubled: each family's
    // generation is what its client saw, or one more when the answer to its last rotation was lost.
    const rowsAfterKill = new Map((await sessionRows([...users, orphanUser].map((user) => user.id))).map((row) => [row.id, row]));
    const committedUnanswered = new Set<Family>();
    for (const family of families) {
      const row = rowsAfterKill.get(family.id);
      const seen = family.tokens.length - 1;
      const allowed = family.lostSentAt === undefined ? [seen] : [seen, seen + 1];
      expect({ family: family.id, revoked: row?.revoked_at ?? null, generationAllowed: allowed.includes(row?.generation ?? -1) }).toEqual({
        family: family.id,
        revoked: null,
        generationAllowed: true,
      });
      if (row!.generation === seen + 1) committedUnanswered.add(family);
    }
    const lost = families.filter((family) => family.lostSentAt !== undefined);
    const rotationFamilies = families.filter((family) => family.userId !== orphanUser.id);
    // The rotation whose answer was lost happened after it was sent and before the database settled.
    const lostRotation = (family: Family): Window => ({ sentAt: family.lostSentAt!, receivedAt: settledAt });
    expect(settledAt).toBeGreaterThanOrEqual(exitAt);

    /**
     * Presents `token`, rotated in `rotation`, again: inside the grace the answer is the family's
     * current token `current` (when given), the very same string; outside it, reuse (the family is revoked).
     */
    async function presentRotated(baseUrl: string, family: Family, token: string, rotation: Window, current: string | undefined): Promise<TestResponse> {
      const sentAt = Date.now();
      const response = await httpRequest(baseUrl, 'POST', '/auth/refresh', { body: { refreshToken: token } });
      const timing = graceTiming(rotation, { sentAt, receivedAt: Date.now() }, KILL_GRACE_S * 1000);
      if (timing === 'outside' || (timing === 'either' && response.status !== 200)) {
        expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'refresh_token_reused' });
        family.revoked = 'reuse';
      } else {
        expect(isTokenPairOf(response, family.id)).toBe(true);
        if (current !== undefined) expect(response.body.refreshToken).toBe(current);
      }
      return response;
    }

    // Half the families go to the survivor at once, well inside the grace; the other half after it.
    // Those whose lost rotation committed are dealt out alternately, so both halves get some.
    const dealt = [...rotationFamilies.filter((family) => committedUnanswered.has(family)), ...rotationFamilies.filter((family) => !committedUnanswered.has(family))];
    const converge = dealt.filter((_, index) => index % 2 === 0);
    const late = dealt.filter((_, index) => index % 2 === 1);
    const stats = { lost: lost.length, committedUnanswered: committedUnanswered.size, convergedFromPrevious: 0, rotatedAfterKill: 0, reuseAfterGrace: 0 };
    for (const family of converge) {
      const presented = family.tokens.at(-1)!;
      if (!committedUnanswered.has(family)) {
        // The presented token is still the current one: it rotates.
        const sentAt = Date.now();
        const response = await httpRequest(b, 'POST', '/auth/refresh', { body: { refreshToken: presented } });
        expect(isTokenPairOf(response, family.id)).toBe(true);
        expect(family.tokens).not.toContain(response.body.refreshToken);
        family.tokens.push(response.body.refreshToken);
        family.accessTokens.push(response.body.accessToken);
        stats.rotatedAfterKill++;
        // Once more, right away: inside the grace, the very same successor.
        await presentRotated(b, family, presented, { sentAt, receivedAt: Date.now() }, response.body.refreshToken);
        continue;
      }
      // Its rotation committed but the answer was lost: within the grace the retry converges on the
      // successor it never received, minting nothing, and the very same string when asked again.
      // Past the grace (a slow machine), the contract makes it reuse.
      const response = await presentRotated(b, family, presented, lostRotation(family), undefined);
      if (family.revoked) {
        family.tokens.push('(lost)');
        continue;
      }
      const successor = response.body.refreshToken as string;
      expect(family.tokens).not.toContain(successor);
      family.tokens.push(successor);
      family.accessTokens.push(response.body.accessToken);
      await presentRotated(b, family, presented, lostRotation(family), successor);
      if (!family.revoked) stats.convergedFromPrevious++;
    }
    const convergedRows = new Map((await sessionRows(users.map((user) => user.id))).map((row) => [row.id, row]));
    for (const family of converge) {
      expect({ family: family.id, generation: convergedRows.get(family.id)?.generation, reason: convergedRows.get(family.id)?.revoked_reason ?? null }).toEqual({
        family: family.id,
        generation: family.tokens.length - 1,
        reason: family.revoked,
      });
    }

    // The other half once the grace of every rotation before the kill is surely over.
    await sleep(Math.max(0, settledAt + KILL_GRACE_S * 1000 + 2 * GRACE_MARGIN_MS + 100 - Date.now()));
    for (const [index, family] of late.entries()) {
      const current = family.tokens.at(-1)!;
      if (committedUnanswered.has(family)) {
        // Its last token was rotated (by the lost answer) longer ago than the grace: reuse.
        const response = await httpRequest(b, 'POST', '/auth/refresh', { body: { refreshToken: current } });
        expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'refresh_token_reused' });
        family.revoked = 'reuse';
        family.tokens.push('(lost)');
        stats.reuseAfterGrace++;
      } else if (index % 2 === 0 && family.tokens.length > 1) {
        // A token rotated before the kill, so earlier than the grace: reuse revokes the family.
        const response = await httpRequest(b, 'POST', '/auth/refresh', { body: { refreshToken: family.tokens.at(-2) } });
        expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'refresh_token_reused' });
        const after = await httpRequest(b, 'POST', '/auth/refresh', { body: { refreshToken: current } });
        expect({ status: after.status, code: after.body?.code }).toEqual({ status: 401, code: 'session_revoked' });
        family.revoked = 'reuse';
        stats.reuseAfterGrace++;
      } else {
        // The last token received is the current one: it works, and only it.
        const sentAt = Date.now();
        const response = await httpRequest(b, 'POST', '/auth/refresh', { body: { refreshToken: current } });
        expect(isTokenPairOf(response, family.id)).toBe(true);
        expect(family.tokens).not.toContain(response.body.refreshToken);
        family.tokens.push(response.body.refreshToken);
        family.accessTokens.push(response.body.accessToken);
        await presentRotated(b, family, current, { sentAt, receivedAt: Date.now() }, response.body.refreshToken);
        stats.rotatedAfterKill++;
      }
    }

    phase('afterKill');
    // The victim again, on its own port: the tokens and the revocations outlive the process.
    restarted = await startServiceProcess(env, victimPort);
    phase('restart');
    const c = restarted.baseUrl;
    for (const family of rotationFamilies) {
      const firstAccess = await httpRequest(c, 'GET', '/users/me', { token: family.accessTokens[0] });
      const latest = family.tokens.at(-1)!;
      if (family.revoked) {
        expect({ status: firstAccess.status, code: firstAccess.body?.code }).toEqual({ status: 401, code: 'session_revoked' });
        if (latest !== '(lost)') {
          const response = await httpRequest(c, 'POST', '/auth/refresh', { body: { refreshToken: latest } });
          expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code: 'session_revoked' });
        }
        continue;
      }
      expect(firstAccess.status).toBe(200);
      const response = await httpRequest(c, 'POST', '/auth/refresh', { body: { refreshToken: latest } });
      expect(isTokenPairOf(response, family.id)).toBe(true);
      expect(REFRESH_TOKEN_SHAPE.test(response.body.refreshToken)).toBe(true);
      expect(family.tokens).not.toContain(response.body.refreshToken);
      family.tokens.push(response.body.refreshToken);
    }

    // The database agrees with every client; the logins whose answers the kill swallowed left at
    // most a row each, never used (nobody holds a token of it).
    const finalRows = await sessionRows([...users, orphanUser].map((user) => user.id));
    for (const family of rotationFamilies) {
      const row = finalRows.find((candidate) => candidate.id === family.id);
      expect({ family: family.id, generation: row?.generation, reason: row?.revoked_reason ?? null }).toEqual({
        family: family.id,
        generation: family.tokens.length - 1,
        reason: family.revoked,
      });
    }
    const known = new Set(families.map((family) => family.id));
    const unheardOf = finalRows.filter((row) => !known.has(row.id));
    expect(unheardOf.length).toBeLessThanOrEqual(unansweredLogins);
    for (const row of unheardOf) expect({ generation: row.generation, revoked_at: row.revoked_at }).toEqual({ generation: 0, revoked_at: null });
    console.log(`kill -9: ${JSON.stringify({ ...stats, families: rotationFamilies.length, orphanLogins: unheardOf.length, unansweredLogins, phases })}`);

    for (const service of [survivor, restarted]) {
      service.child.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
    }
  }, 60_000);
});
