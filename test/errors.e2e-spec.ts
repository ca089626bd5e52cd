import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { expectErrorBody } from './support/http-contract.js';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

const BODY_LIMIT = 16 * 1024;

describe('errors', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const json = { 'content-type': 'application/json' };

  describe('malformed and mistyped bodies get 400 validation_failed, never a 500', () => {
    it.each([
      ['truncated JSON', '{"email": "a@b.test", "password": '],
      ['a trailing comma', '{"email": "a@b.test",}'],
      ['single quotes', "{'email': 'a@b.test'}"],
      ['a prototype-poisoning __proto__ key', `{"email": "${uniqueEmail()}", "password": "${PASSWORD}", "__proto__": {"roles": ["admin"]}}`],
      ['a constructor.prototype key', `{"email": "${uniqueEmail()}", "password": "${PASSWORD}", "constructor": {"prototype": {"x": 1}}}`],
    ])('%s', async (_label, rawBody) => {
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh']) {
        expectErrorBody(await app.request('POST', path, { rawBody, headers: json }), 400, 'validation_failed');
      }
    });

    it('an empty JSON body counts as no body: register and login refuse it, refresh finds no token', async () => {
      for (const path of ['/auth/register', '/auth/login']) {
        expectErrorBody(await app.request('POST', path, { rawBody: '', headers: json }), 400, 'validation_failed');
      }
      expectErrorBody(await app.request('POST', '/auth/refresh', { rawBody: '', headers: json }), 401, 'refresh_token_invalid');
    });

    it.each([
      ['JSON null', 'null'],
      ['a JSON string', '"a@b.test"'],
      ['a JSON number', '42'],
      ['a JSON array', `[{"email": "a@b.test", "password": "${PASSWORD}"}]`],
      ['a JSON boolean', 'true'],
    ])('a body that is %s', async (_label, rawBody) => {
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh', '/auth/logout']) {
        expectErrorBody(await app.request('POST', path, { rawBody, headers: json }), 400, 'validation_failed');
      }
    });

    it.each([
      ['a numeric email', { email: 12345, password: PASSWORD }],
      ['a numeric password', { email: uniqueEmail(), password: 12345678 }],
      ['an array password', { email: uniqueEmail(), password: [PASSWORD] }],
      ['an object password', { email: uniqueEmail(), password: { length: 10 } }],
      ['a query-operator email', { email: { $gt: '' }, password: PASSWORD }],
      ['a null email', { email: null, password: PASSWORD }],
    ])('%s', async (_label, body) => {
      for (const path of ['/auth/register', '/auth/login']) {
        expectErrorBody(await app.request('POST', path, { body }), 400, 'validation_failed', [PASSWORD]);
      }
    });

    it('a numeric displayName', async () => {
      const body = { email: uniqueEmail(), password: PASSWORD, displayName: 7 };
      expectErrorBody(await app.request('POST', '/auth/register', { body }), 400, 'validation_failed', [PASSWORD]);
    });

    it('mistyped password-change fields', async () => {
      const { accessToken } = await registerAndLogin(app, 'mistyped');
      for (const body of [{ currentPassword: 1, newPassword: 'a brand new password' }, { currentPassword: PASSWORD, newPassword: ['x'] }]) {
        expectErrorBody(await app.request('POST', '/auth/password', { token: accessToken, body }), 400, 'validation_failed');
      }
    });

    it('a refresh token of the wrong type', async () => {
      for (const refreshToken of [12345, ['x'], { a: 1 }, true]) {
        expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken } }), 400, 'validation_failed');
      }
    });

    describe('a body nested 2,500 deep', () => {
      const DEPTH = 2500;
      const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
      const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
      const bodies: [string, string][] = [
        ['as the whole body', deepObject],
        ['as an array body', deepArray],
        ['under the email', `{"email": ${deepArray}, "password": "${PASSWORD}"}`],
        ['under the password', `{"email": "${uniqueEmail()}", "password": ${deepObject}}`],
        ['under the refresh token', `{"refreshToken": ${deepObject}}`],
        ['under the password-change fields', `{"currentPassword": ${deepArray}, "newPassword": ${deepArray}}`],
        ['under an unknown key', `{"evil": ${deepObject}}`],
        ['as deep as the size limit allows', `${'['.repeat(8000)}${']'.repeat(8000)}`],
      ];

      it.each(bodies)('%s: 400 validation_failed on every route that takes a body, never a 500', async (_label, rawBody) => {
        const { accessToken, sessionId } = await registerAndLogin(app, 'deep');
        const routes: [string, string, string?][] = [
          ['POST', '/auth/register'],
          ['POST', '/auth/login'],
          ['POST', '/auth/refresh'],
          ['POST', '/auth/logout'],
          ['POST', '/auth/logout', accessToken],
          ['POST', '/auth/password', accessToken],
          ['POST', '/auth/logout-all', accessToken],
          ['DELETE', `/auth/sessions/${sessionId}`, accessToken],
        ];
        for (const [method, path, token] of routes) {
          const response = await app.request(method, path, { rawBody, headers: json, token });
          const route = `${method} ${path}${token ? ' (Bearer)' : ''}`;
          expect({ route, status: response.status }).toEqual({ route, status: 400 });
          expectErrorBody(response, 400, 'validation_failed', [PASSWORD]);
        }
        // Nothing was ended along the way.
        expect((await app.request('GET', '/auth/claims', { token: accessToken })).status).toBe(200);
      });
    });

    describe('a body on a route that takes none', () => {
      it('POST /auth/logout-all: 400 for an unknown property or a non-object, and nothing ended; 204 for no body or {}', async () => {
        const { accessToken } = await registerAndLogin(app, 'no-body');
        for (const rawBody of ['{"evil": 1}', '{"refreshToken": "x"}', '[]', '"x"', '1', 'true', 'null']) {
          expectErrorBody(await app.request('POST', '/auth/logout-all', { rawBody, headers: json, token: accessToken }), 400, 'validation_failed');
        }
        expect((await app.request('GET', '/auth/claims', { token: accessToken })).status).toBe(200);
        expect((await app.request('POST', '/auth/logout-all', { rawBody: '{}', headers: json, token: accessToken })).status).toBe(204);
        const again = await registerAndLogin(app, 'no-body');
        expect((await app.request('POST', '/auth/logout-all', { token: again.accessToken })).status).toBe(204);
        const emptyJson = await registerAndLogin(app, 'no-body');
        expect((await app.request('POST', '/auth/logout-all', { rawBody: '', headers: json, token: emptyJson.accessToken })).status).toBe(204);
      });

      it('DELETE /auth/sessions/:id: 400 for an unknown property, and the session lives on; 204 for no body or {}', async () => {
        const { accessToken, sessionId } = await registerAndLogin(app, 'no-body');
        const path = `/auth/sessions/${sessionId}`;
        for (const rawBody of ['{"evil": 1}', '{"id": "x"}', '[]']) {
          expectErrorBody(await app.request('DELETE', path, { rawBody, headers: json, token: accessToken }), 400, 'validation_failed');
        }
        expect((await app.request('GET', '/auth/claims', { token: accessToken })).status).toBe(200);
        expect((await app.request('DELETE', path, { rawBody: '{}', headers: json, token: accessToken })).status).toBe(204);
        const other = await registerAndLogin(app, 'no-body');
        expect((await app.request('DELETE', `/auth/sessions/${other.sessionId}`, { token: other.accessToken })).status).toBe(204);
      });

      it('POST /auth/password and /auth/logout refuse an unknown property too', async () => {
        const { accessToken, refreshToken } = await registerAndLogin(app, 'no-body');
        const body = { currentPassword: PASSWORD, newPassword: 'a brand new password', evil: 1 };
        expectErrorBody(await app.request('POST', '/auth/password', { body, token: accessToken }), 400, 'validation_failed', [PASSWORD]);
        expectErrorBody(await app.request('POST', '/auth/logout', { body: { refreshToken, evil: 1 } }), 400, 'validation_failed', [refreshToken]);
        expectErrorBody(await app.request('POST', '/auth/logout', { body: { evil: 1 }, token: accessToken }), 400, 'validation_failed');
        expect((await app.request('GET', '/auth/claims', { token: accessToken })).status).toBe(200);
      });

      it('POST /auth/refresh lists every problem of its body, and the token it was given still works', async () => {
        const { refreshToken } = await registerAndLogin(app, 'refresh-body');
        const extra = await app.request('POST', '/auth/refresh', { body: { refreshToken, evil: 1, other: 2 } });
        expectErrorBody(extra, 400, 'validation_failed', [refreshToken]);
        expect(extra.body.details).toEqual(['property evil should not exist', 'property other should not exist']);
        const mistyped = await app.request('POST', '/auth/refresh', { body: { refreshToken: 42, evil: 1 } });
        expectErrorBody(mistyped, 400, 'validation_failed');
        expect(mistyped.body.details).toEqual(['property evil should not exist', 'refreshToken must be a string']);
        const long = await app.request('POST', '/auth/refresh', { body: { refreshToken: 'A'.repeat(513) } });
        expectErrorBody(long, 400, 'validation_failed');
        expect(long.body.details).toEqual(['refreshToken must be shorter than or equal to 512 characters']);
        expect((await app.request('POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(200);
      });
    });

    it('a refresh token that is far too long', async () => {
      const refreshToken = 'A'.repeat(4000);
      const response = await app.request('POST', '/auth/refresh', { body: { refreshToken } });
      expectErrorBody(response, 400, 'validation_failed', [refreshToken]);
    });
  });

  describe('size, media type and routing', () => {
    it(`a JSON body over ${BODY_LIMIT} bytes gets 413 payload_too_large`, async () => {
      const rawBody = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, displayName: 'x'.repeat(BODY_LIMIT) });
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh']) {
        expectErrorBody(await app.request('POST', path, { rawBody, headers: json }), 413, 'payload_too_large');
      }
    });

    it('a 1 MiB body gets 413 payload_too_large', async () => {
      const rawBody = `{"password": "${'p'.repeat(1024 * 1024)}"}`;
      expectErrorBody(await app.request('POST', '/auth/login', { rawBody, headers: json }), 413, 'payload_too_large');
    });

    it('a chunked body (no Content-Length) over the limit gets 413 payload_too_large', async () => {
      const chunk = new TextEncoder().encode(`"${'x'.repeat(4096)}",`);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"email": ['));
          if (sent > BODY_LIMIT * 4) {
            controller.enqueue(new TextEncoder().encode('""]}'));
            controller.close();
            return;
          }
          controller.enqueue(chunk);
          sent += chunk.length;
        },
      });
      const response = await fetch(`${app.baseUrl}/auth/login`, { method: 'POST', headers: json, body: stream, duplex: 'half' } as RequestInit);
      expectErrorBody(await asTestResponse(response), 413, 'payload_too_large');
    });

    it('a body just under the limit is parsed (and then validated)', async () => {
      const rawBody = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, displayName: 'x'.repeat(BODY_LIMIT - 200) });
      expect(Buffer.byteLength(rawBody)).toBeLessThan(BODY_LIMIT);
      // Parsed, so the displayName length rule answers, not the size limit.
      expectErrorBody(await app.request('POST', '/auth/register', { rawBody, headers: json }), 400, 'validation_failed');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain with a charset', 'text/plain; charset=utf-8'],
      ['form-encoded', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=x'],
      ['XML', 'application/xml'],
    ])('a %s body gets 415 unsupported_media_type', async (_label, contentType) => {
      const rawBody = JSON.stringify({ email: uniqueEmail(), password: PASSWORD });
      for (const path of ['/auth/register', '/auth/login', '/auth/refresh', '/auth/logout']) {
        expectErrorBody(await app.request('POST', path, { rawBody, headers: { 'content-type': contentType } }), 415, 'unsupported_media_type');
      }
    });

    it('a text/plain body does not register anyone', async () => {
      const email = uniqueEmail('textplain');
      await app.request('POST', '/auth/register', { rawBody: JSON.stringify({ email, password: PASSWORD }), headers: { 'content-type': 'text/plain' } });
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(401);
    });

    it('application/json with a charset is accepted', async () => {
      const response = await app.request('POST', '/auth/register', {
        rawBody: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(response.status).toBe(201);
    });

    it.each([
      ['GET', '/nope'],
      ['POST', '/auth/nope'],
      ['GET', '/users/me/extra'],
      ['DELETE', '/auth'],
      ['GET', '/docsx'],
    ])('%s %s gets 404 not_found', async (method, path) => {
      expectErrorBody(await app.request(method, path), 404, 'not_found');
    });

    it.each([
      ['GET', '/auth/login', 'POST'],
      ['PUT', '/auth/register', 'POST'],
      ['DELETE', '/health', 'GET, HEAD'],
      ['POST', '/users/me', 'GET, HEAD'],
      ['PATCH', '/auth/sessions', 'GET, HEAD'],
      ['GET', '/auth/sessions/00000000-0000-4000-8000-000000000000', 'DELETE'],
      ['POST', '/.well-known/jwks.json?x=1', 'GET, HEAD'],
    ])('%s %s gets 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
      const response = await app.request(method, path);
      expectErrorBody(response, 405, 'method_not_allowed');
      expect(response.headers.get('allow')).toBe(allow);
    });

    it('a 404 a route itself answers stays a 404', async () => {
      const { accessToken } = await registerAndLogin(app, 'not-found');
      const response = await app.request('DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000', { token: accessToken });
      expectErrorBody(response, 404, 'session_not_found');
      expect(response.headers.get('allow')).toBeNull();
    });

    it.each([
      ['a padding header', '/health/live', { 'x-padding': 'p'.repeat(20 * 1024) }],
      ['an Authorization header', '/users/me', { authorization: `Bearer ${'a'.repeat(20 * 1024)}` }],
      ['a Cookie header', '/auth/refresh', { cookie: `refresh_token=${'c'.repeat(20 * 1024)}`, 'x-requested-with': 'x' }],
      ['many small headers', '/health/live', Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`x-h${i}`, 'v'.repeat(50)]))],
    ])('20 KB of headers (%s) get 431 headers_too_large, and the server keeps serving', async (_label, path, headers) => {
      const response = await rawHttp(app.baseUrl, path, headers);
      expectErrorBody(response, 431, 'headers_too_large');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await app.request('GET', '/health/live')).status).toBe(200);
    });

    it.each([
      ['GET', '/auth/sessions/%ZZ'],
      ['DELETE', '/auth/sessions/%E0%A4%A'],
    ])('%s %s (a malformed URL) gets 400 validation_failed with nosniff, echoing nothing', async (method, path) => {
      const response = await app.request(method, path);
      expectErrorBody(response, 400, 'validation_failed', [path]);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('an over-long id reaches its route: 404 session_not_found', async () => {
      const { accessToken } = await registerAndLogin(app, 'long-id');
      expectErrorBody(await app.request('DELETE', `/auth/sessions/${'a'.repeat(1000)}`, { token: accessToken }), 404, 'session_not_found');
    });

    it('a long but acceptable Bearer token gets 401 token_invalid, not a 500', async () => {
      const token = `${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(4000)}`;
      expectErrorBody(await app.request('GET', '/users/me', { token }), 401, 'token_invalid', [token]);
    });
  });

  describe('a request that is slow to arrive', () => {
    it('is answered 408 request_timeout 10 s after its headers, in our shape, and its connection closed', async () => {
      const { status, headers, body, elapsed, closed } = await trickle(app.baseUrl, '/auth/login');
      expect(closed).toBe(true);
      expectErrorBody({ status, headers, body }, 408, 'request_timeout');
      expect(headers.get('connection')).toBe('close');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      // Not cut short before the 10 s it is allowed, and not left hanging long after.
      expect(elapsed).toBeGreaterThanOrEqual(9_500);
      expect(elapsed).toBeLessThan(13_000);
      expect((await app.request('GET', '/health/live')).status).toBe(200);
    }, 20_000);
  });

  describe('every error body', () => {
    it('is exactly {statusCode, error, message, code} (+details) and leaks no stack, SQL, hash or token', async () => {
      const { email, accessToken, refreshToken } = await registerAndLogin(app, 'leaks');
      const secrets = [accessToken, refreshToken, PASSWORD, 'wrong password 123'];
      const cases: [TestResponse, number, string][] = [
        [await app.request('POST', '/auth/login', { body: { email, password: 'wrong password 123' } }), 401, 'invalid_credentials'],
        [await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } }), 409, 'email_taken'],
        [await app.request('POST', '/auth/register', { body: { email, password: 'short' } }), 400, 'validation_failed'],
        [await app.request('POST', '/auth/refresh', { body: { refreshToken: refreshToken.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } }), 401, 'refresh_token_invalid'],
        [await app.request('POST', '/auth/refresh', { headers: { cookie: `refresh_token=${refreshToken}` } }), 403, 'csrf_rejected'],
        [await app.request('GET', '/users/me', { token: `${accessToken}x` }), 401, 'token_invalid'],
        [await app.request('DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000', { token: accessToken }), 404, 'session_not_found'],
        [await app.request('DELETE', '/auth/sessions/not-a-uuid', { token: accessToken }), 404, 'session_not_found'],
        [await app.request('POST', '/auth/login', { rawBody: '{"email":', headers: json }), 400, 'validation_failed'],
        [await app.request('GET', '/definitely/not/here'), 404, 'not_found'],
      ];
      for (const [response, status, code] of cases) {
        expectErrorBody(response, status, code, secrets);
        expect(response.body.error).toBe(statusText(status));
        expect(response.body.message.length).toBeGreaterThan(0);
      }
    });

    it('answers the same message for the same code (no per-case detail in a 401)', async () => {
      const first = await app.request('GET', '/users/me', { token: 'garbage' });
      const second = await app.request('GET', '/users/me', { token: 'aaa.bbb.ccc' });
      const third = await app.request('GET', '/users/me');
      expect(second.body).toEqual(first.body);
      expect(third.body).toEqual(first.body);
    });
  });
});

/** A plain node:http request, so a header fetch would refuse or rewrite goes out as written. */
function rawHttp(baseUrl: string, path: string, headers: Record<string, string>): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    // agent: false, a fresh connection: the server closes it after refusing the request.
    const request = httpRequest(`${baseUrl}${path}`, { method: 'GET', headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON: the assertion on the body will say so.
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: response.statusCode ?? 0, headers: responseHeaders, body });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Sends a POST's headers announcing 1000 bytes of body, then one byte every 2 s, over a raw socket;
 * resolves with what came back once the server closes the connection.
 */
function trickle(baseUrl: string, path: string): Promise<TestResponse & { elapsed: number; closed: boolean }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    });
    const drip = setInterval(() => socket.writable && socket.write(' '), 2_000);
    // Never answered: give up well past the bound, so the test fails rather than hangs.
    const giveUp = setTimeout(() => {
      closed = false;
      socket.destroy();
    }, 15_000);
    let closed = true;
    // The server may close while a byte is on its way.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', content = ''] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = new Headers();
      for (const line of lines) headers.append(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim());
      let body: unknown = content;
      try {
        body = JSON.parse(content);
      } catch {
        // Not JSON: the assertion on the body will say so.
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body, elapsed: Date.now() - started, closed });
    });
  });
}

async function asTestResponse(response: Response): Promise<TestResponse> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the assertion on the body will say so.
  }
  return { status: response.status, headers: response.headers, body };
}

function statusText(status: number): string {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' }[status] ?? '';
}
