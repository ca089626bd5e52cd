import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import pg from 'pg';
import { readClaims } from '../src/client/access-token.js';
import { type AuthClient, createAuthClient, type SessionChange, type TokenStorage } from '../src/client/index.js';
import { freePort, httpRequest, type ServiceProcess, startServiceProcess } from './support/service-process.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

// The client against the compiled service in its own process, so shifting the client's clock
// (Date.now, in this process only) never touches the server's. Tokens live 2 s, verified to the second.
const ACCESS_TTL_S = 2;
const GRACE_S = 1;

interface Sent {
  /** When it was sent (ms, this machine's clock). */
  at: number;
  method: string;
  path: string;
  authorization: string | null;
  status: number;
}

/** Every request the client sends, as the server sees it arriving. */
function recordingFetch() {
  const sent: Sent[] = [];
  const fetch = async (request: Request) => {
    const entry = { at: Date.now(), method: request.method, path: new URL(request.url).pathname, authorization: request.headers.get('authorization'), status: 0 };
    const response = await globalThis.fetch(request);
    sent.push({ ...entry, status: response.status });
    return response;
  };
  return { fetch, sent, refreshes: () => sent.filter((request) => request.path === '/auth/refresh').length };
}

function memoryStorage(): TokenStorage & { value: string | null } {
  return {
    value: null,
    get() {
      return this.value;
    },
    async set(token) {
      this.value = token;
    },
    remove() {
      this.value = null;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('client (Node, body transport) against the running service', () => {
  let service: ServiceProcess;
  let db: pg.Pool;
  const clients: AuthClient[] = [];
  const realNow = Date.now;

  beforeAll(async () => {
    service = await startServiceProcess(
      {
        DATABASE_URL: process.env.TEST_DATABASE_URL!,
        DATA_DIR: await mkdtemp(join(tmpdir(), 'auth-client-')),
        DB_MIGRATE_ON_START: 'false',
        HTTP_ADAPTER: process.env.TEST_HTTP_ADAPTER ?? 'fastify',
        RATE_LIMIT: 'off',
        LOG_LEVEL: 'warn',
        ACCESS_TOKEN_TTL: `${ACCESS_TTL_S}s`,
        JWT_CLOCK_SKEW: '0s',
        REFRESH_REUSE_GRACE: `${GRACE_S}s`,
      },
      await freePort(),
    );
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  });
  afterEach(() => {
    Date.now = realNow;
    clients.splice(0).forEach((client) => client.close());
  });
  afterAll(async () => {
    await db?.end();
    service?.child.kill('SIGTERM');
    await service?.exited;
  });

  /** A registered user and a signed-in client; `changes` records every session event. */
  async function signedIn(options: { storage?: TokenStorage; autoRefresh?: boolean } = {}) {
    const email = uniqueEmail('client');
    const recorder = recordingFetch();
    const client = createAuthClient({ baseUrl: service.baseUrl, transport: 'body', fetch: recorder.fetch, autoRefresh: false, ...options });
    clients.push(client);
    const changes: [string | null, SessionChange][] = [];
    client.onSessionChange((session, change) => changes.push([session?.sessionId ?? null, change]));
    await client.register({ email, password: PASSWORD });
    const session = await client.login({ email, password: PASSWORD });
    return { email, client, session, changes, ...recorder, signOuts: () => changes.filter(([id]) => id === null).map(([, change]) => change) };
  }

  const generationOf = async (sessionId: string) =>
    (await db.query<{ generation: number }>('SELECT generation FROM auth_sessions WHERE id = $1', [sessionId])).rows[0].generation;
  const claimsOf = (token: string) => readClaims(token)!;
  /** Until the server's clock has passed the token's exp (both run on this machine's clock). */
  const untilExpired = (token: string) => sleep(Math.max(claimsOf(token).exp * 1000 - realNow() + 50, 0));
  /** The client believes its access token expired: its clock runs ahead (the server's does not). */
  const clientClockAhead = (ms: number) => (Date.now = () => realNow() + ms);

  it('50 concurrent requests with an expired access token: exactly one refresh reaches the server, all 50 succeed', async () => {
    const { client, session, refreshes, sent } = await signedIn();
    const token = (await client.getAccessToken())!;
    await untilExpired(token);
    const responses = await Promise.all(Array.from({ length: 50 }, () => client.fetch(`${service.baseUrl}/auth/claims`)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(refreshes()).toBe(1);
    expect(await generationOf(session.sessionId)).toBe(1);
    const used = new Set(sent.filter((request) => request.path === '/auth/claims').map((request) => request.authorization));
    expect(used).toEqual(new Set([`Bearer ${await client.getAccessToken()}`]));
  });

  it('50 concurrent requests the server refuses as token_expired (the client clock behind): one refresh, one retry each, all succeed', async () => {
    const { client, session, refreshes, sent } = await signedIn();
    const token = (await client.getAccessToken())!;
    await untilExpired(token);
    clientClockAhead(-60_000);
    const responses = await Promise.all(Array.from({ length: 50 }, () => client.fetch(`${service.baseUrl}/auth/claims`)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(refreshes()).toBe(1);
    expect(await generationOf(session.sessionId)).toBe(1);
    const claims = sent.filter((request) => request.path === '/auth/claims');
    expect(claims.filter((request) => request.status === 401)).toHaveLength(50);
    expect(claims.filter((request) => request.status === 200)).toHaveLength(50);
  });

  it('refreshes proactively, before exp, so no request meets an expired token', async () => {
    const { client, session, sent } = await signedIn({ autoRefresh: true });
    const first = (await client.getAccessToken())!;
    const deadline = realNow() + 2 * ACCESS_TTL_S * 1000;
    while (realNow() < deadline) {
      expect((await client.fetch(`${service.baseUrl}/auth/claims`)).status).toBe(200);
      await sleep(100);
    }
    expect(sent.filter((request) => request.status === 401)).toEqual([]);
    const refresh = sent.find((request) => request.path === '/auth/refresh');
    expect(refresh!.at).toBeLessThan(claimsOf(first).exp * 1000);
    expect(await client.getAccessToken()).not.toBe(first);
    expect(await generationOf(session.sessionId)).toBeGreaterThanOrEqual(1);
  });

  describe('a final answer ends the session once, with its reason, and the client stops asking', () => {
    const expectEndedOnce = async (signedInClient: Awaited<ReturnType<typeof signedIn>>, reason: string) => {
      const { client, refreshes, signOuts, sent } = signedInClient;
      clientClockAhead(10_000);
      expect(await Promise.all(Array.from({ length: 5 }, () => client.getAccessToken()))).toEqual(Array(5).fill(null));
      expect(refreshes()).toBe(1);
      expect(signOuts()).toEqual([{ type: 'signed_out', reason }]);
      const before = sent.length;
      expect(await client.getAccessToken()).toBeNull();
      const after = await client.fetch(`${service.baseUrl}/auth/claims`);
      expect(after.status).toBe(401);
      expect(sent.slice(before)).toEqual([expect.objectContaining({ path: '/auth/claims', authorization: null })]);
      expect(signOuts()).toHaveLength(1);
    };

    it('refresh_token_reused: a token rotated longer ago than the grace, presented again', async () => {
      const storage = memoryStorage();
      const user = await signedIn({ storage });
      const rotated = await httpRequest(service.baseUrl, 'POST', '/auth/refresh', { body: { refreshToken: storage.value } });
      expect(rotated.status).toBe(200);
      await sleep(GRACE_S * 1000 + 300);
      await expectEndedOnce(user, 'refresh_token_reused');
    });

    it('refresh_token_invalid: a token that is not one', async () => {
      const storage = memoryStorage();
      const user = await signedIn({ storage });
      storage.value = 'not-a-refresh-token';
      await expectEndedOnce(user, 'refresh_token_invalid');
    });

    it('session_revoked: the session was logged out elsewhere', async () => {
      const storage = memoryStorage();
      const user = await signedIn({ storage });
      expect((await httpRequest(service.baseUrl, 'POST', '/auth/logout', { body: { refreshToken: storage.value } })).status).toBe(204);
      await expectEndedOnce(user, 'session_revoked');
    });

    it('session_revoked on a Bearer request ends it too, once', async () => {
      const storage = memoryStorage();
      const { client, signOuts } = await signedIn({ storage });
      expect((await httpRequest(service.baseUrl, 'POST', '/auth/logout', { body: { refreshToken: storage.value } })).status).toBe(204);
      const responses = await Promise.all(Array.from({ length: 5 }, () => client.fetch(`${service.baseUrl}/auth/claims`)));
      expect(responses.map((response) => response.status)).toEqual(Array(5).fill(401));
      expect(signOuts()).toEqual([{ type: 'signed_out', reason: 'session_revoked' }]);
      expect(await client.getAccessToken()).toBeNull();
    });

    it('refresh_token_expired: the session outlived its lifetime', async () => {
      const user = await signedIn();
      await db.query(`UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [user.session.sessionId]);
      await expectEndedOnce(user, 'refresh_token_expired');
    });

    it('account_disabled: the account was disabled', async () => {
      const user = await signedIn();
      await db.query('UPDATE auth_users SET disabled_at = now() WHERE email = $1', [user.email]);
      await expectEndedOnce(user, 'account_disabled');
    });
  });

  it('logout clears the session here and on the server', async () => {
    const storage = memoryStorage();
    const { client, signOuts } = await signedIn({ storage });
    const accessToken = (await client.getAccessToken())!;
    const refreshToken = storage.value;
    await client.logout();
    expect(signOuts()).toEqual([{ type: 'signed_out', reason: 'logout' }]);
    expect(await client.getAccessToken()).toBeNull();
    expect(storage.value).toBeNull();
    expect((await httpRequest(service.baseUrl, 'GET', '/auth/claims', { token: accessToken })).body.code).toBe('session_revoked');
    expect((await httpRequest(service.baseUrl, 'POST', '/auth/refresh', { body: { refreshToken } })).body.code).toBe('session_revoked');
  });

  it('sessions, password change and logout from everywhere', async () => {
    const { client, session, email, signOuts } = await signedIn();
    const other = createAuthClient({ baseUrl: service.baseUrl, transport: 'body', autoRefresh: false });
    clients.push(other);
    await other.login({ email, password: PASSWORD });
    const listed = await client.sessions();
    expect(listed.map(({ id, current }) => [id, current])).toEqual(expect.arrayContaining([[session.sessionId, true]]));
    expect(listed).toHaveLength(2);
    await expect(client.changePassword({ currentPassword: 'wrong password', newPassword: 'another good one' })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    });
    await client.changePassword({ currentPassword: PASSWORD, newPassword: 'another good one' });
    expect(await other.fetch(`${service.baseUrl}/auth/claims`).then((response) => response.status)).toBe(401);
    expect(await other.getAccessToken()).toBeNull();
    await client.logoutAll();
    expect(signOuts()).toEqual([{ type: 'signed_out', reason: 'logout_all' }]);
    await expect(client.login({ email, password: PASSWORD })).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
  });

  describe('the Bearer token goes to trusted origins only', () => {
    let elsewhere: http.Server;
    let elsewhereUrl: string;
    const seen: (string | undefined)[] = [];
    beforeAll(async () => {
      elsewhere = http.createServer((request, response) => {
        seen.push(request.headers.authorization);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      elsewhere.listen(0, '127.0.0.1');
      await once(elsewhere, 'listening');
      elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise((resolve) => elsewhere.close(resolve)));
    beforeEach(() => seen.splice(0));

    it('never to another origin, however alike its URL; to an origin named trusted, yes', async () => {
      const { client, email } = await signedIn();
      await client.fetch(`${elsewhereUrl}/x`);
      await client.fetch(`${elsewhereUrl}/${service.baseUrl}/auth/claims?next=${service.baseUrl}`);
      const api = createClient<Record<string, never>>({ baseUrl: elsewhereUrl });
      api.use(client.middleware);
      await api.request('get', '/y' as never);
      expect(seen).toEqual([undefined, undefined, undefined]);
      const trusting = createAuthClient({ baseUrl: service.baseUrl, transport: 'body', autoRefresh: false, trustedOrigins: [elsewhereUrl] });
      clients.push(trusting);
      await trusting.login({ email, password: PASSWORD });
      await trusting.fetch(`${elsewhereUrl}/z`);
      expect(seen[3]).toBe(`Bearer ${await trusting.getAccessToken()}`);
    });
  });
});
