import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AuthEvents } from '../src/auth/index.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin } from './support/users.js';

// API.md "Operating it": every response carries X-Request-Id (the caller's own when well-formed, else a
// fresh one), and every log line of that request, and its security events, carry the same id.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface LogLine {
  level: number;
  context?: string;
  msg: string;
  requestId?: string;
  event?: Record<string, unknown>;
}

let app: TestApp;
let db: pg.Client;
const lines: string[] = [];
const logLines = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);

beforeAll(async () => {
  // Strict mode: any second presentation of a refresh token is reuse.
  // debug: the error filter's reasons and Fastify's request lines are logged too.
  app = await startTestApp({ LOG_LEVEL: 'debug', REFRESH_REUSE_GRACE: '0' }, undefined, { write: (line: string) => void lines.push(line) });
  db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await app?.close();
  await db?.end();
});

const withId = (id: string) => ({ headers: { 'x-request-id': id } });
const idOf = (response: { headers: Headers }) => response.headers.get('x-request-id');

describe('X-Request-Id', () => {
  it('echoes a well-formed id of the caller', async () => {
    for (const id of ['abc', 'A.b_c-9', 'x'.repeat(128), randomUUID()]) {
      expect(idOf(await app.request('GET', '/health/live', withId(id)))).toBe(id);
    }
  });

  it('replaces a malformed or too long one with a fresh UUID', async () => {
    for (const id of ['x'.repeat(129), 'has space', 'semi;colon', 'ü', '<script>', 'a/b']) {
      const answered = idOf(await app.request('GET', '/health/live', withId(id)));
      expect(answered).toMatch(UUID);
    }
  });

  it('generates one when there is none, a different one each time', async () => {
    const first = idOf(await app.request('GET', '/health/live'));
    const second = idOf(await app.request('GET', '/health/live'));
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  it('is on error responses too: unknown route, malformed URL, bad JSON, wrong content type, no token, wrong method', async () => {
    const json = { 'content-type': 'application/json' };
    const cases = [
      ['GET', '/no/such/route', {}, 404],
      ['GET', '/auth/sessions/%ZZ', {}, 400],
      ['POST', '/auth/login', { rawBody: '{"email":', headers: json }, 400],
      ['POST', '/auth/login', { rawBody: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
      ['GET', '/users/me', {}, 401],
      ['DELETE', '/health/live', {}, 405],
    ] as const;
    for (const [method, path, options, status] of cases) {
      const id = `err-${randomUUID()}`;
      const response = await app.request(method, path, { ...options, headers: { ...('headers' in options ? options.headers : {}), 'x-request-id': id } });
      expect([path, response.status]).toEqual([path, status]);
      expect(idOf(response)).toBe(id);
      expect(idOf(await app.request(method, path, options))).toMatch(UUID);
    }
  });
});

describe('the request id in logs and events', () => {
  it("is on the info log line of a failed login and of a detected reuse, and in their auth_events rows", async () => {
    const user = await registerAndLogin(app, 'request-id');
    const failedId = `failed-${randomUUID()}`;
    const failed = await app.request('POST', '/auth/login', { body: { email: user.email, password: 'not the password' }, ...withId(failedId) });
    expect(failed.status).toBe(401);

    expect((await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
    const reuseId = `reuse-${randomUUID()}`;
    const reused = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken }, ...withId(reuseId) });
    expect(reused.body.code).toBe('refresh_token_reused');

    // One JSON line per event, at info, with the request's id as a field and in the event itself.
    const eventLines = logLines().filter((line) => line.context === 'AuthEvents');
    expect(eventLines.find((line) => line.requestId === failedId)).toMatchObject({
      level: 30,
      msg: 'login_failed',
      event: { type: 'login_failed', userId: user.userId, requestId: failedId, detail: { reason: 'wrong_password' } },
    });
    const reuseLines = eventLines.filter((line) => line.requestId === reuseId);
    expect(reuseLines.map((line) => [line.level, line.msg, line.event?.requestId])).toEqual([
      [30, 'refresh_reuse_detected', reuseId],
      [30, 'session_revoked', reuseId],
    ]);

    // Never a password, token or hash in any line.
    const all = lines.join('\n');
    for (const secret of [PASSWORD, 'not the password', user.refreshToken, user.accessToken, '$argon2']) expect(all).not.toContain(secret);

    await app.app.get(AuthEvents).flush();
    const rows = async (requestId: string) =>
      (await db.query<{ type: string }>('SELECT type FROM auth_events WHERE request_id = $1 ORDER BY id', [requestId])).rows.map((row) => row.type);
    expect(await rows(failedId)).toEqual(['login_failed']);
    expect(await rows(reuseId)).toEqual(['refresh_reuse_detected', 'session_revoked']);
  });

  it('a generated id is the one in the log line and the row', async () => {
    const user = await registerAndLogin(app, 'request-id-generated');
    const response = await app.request('POST', '/auth/login', { body: { email: user.email, password: PASSWORD } });
    expect(response.status).toBe(200);
    const id = idOf(response)!;
    expect(id).toMatch(UUID);
    const line = logLines().find((entry) => entry.requestId === id && entry.context === 'AuthEvents');
    expect(line?.event).toMatchObject({ type: 'login_succeeded', sessionId: response.body.sessionId, requestId: id });
    await app.app.get(AuthEvents).flush();
    const { rows } = await db.query<{ type: string; session_id: string }>('SELECT type, session_id FROM auth_events WHERE request_id = $1', [id]);
    expect(rows).toEqual([{ type: 'login_succeeded', session_id: response.body.sessionId }]);
  });

  it("is in the error filter's line about a refusal, and in Fastify's own lines about the request", async () => {
    const id = `refused-${randomUUID()}`;
    expect((await app.request('GET', '/users/me', { token: 'not.a.token', ...withId(id) })).status).toBe(401);
    const mentioning = logLines().filter((line) => line.msg.includes(`(request ${id})`) || (line as { reqId?: string }).reqId === id);
    expect(mentioning.find((line) => line.context === 'Errors')?.msg).toMatch(`GET /users/me (request ${id}): token_invalid`);
    if (app.app.getHttpAdapter().getType() === 'fastify') expect(mentioning.map((line) => line.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
  });
});
