import { expectErrorBody } from './support/http-contract.js';
import { proxyToTestDatabase, type TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

/** The codes API.md names; every one must be in the OpenAPI document. */
const CONTRACT_CODES = [
  'validation_failed',
  'invalid_credentials',
  'email_taken',
  'token_invalid',
  'token_expired',
  'session_revoked',
  'refresh_token_invalid',
  'refresh_token_expired',
  'refresh_token_reused',
  'rate_limited',
  'csrf_rejected',
  'service_unavailable',
];

type Media = { schema: Schema; example?: unknown; examples?: Record<string, { value: unknown }> };
type Header = { required?: boolean; schema: Schema };
type Operation = {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description?: string; headers?: Record<string, Header>; content?: Record<string, Media> }>;
};
type Schema = { $ref?: string; type?: string; items?: Schema; properties?: Record<string, Schema>; required?: string[]; enum?: unknown[]; minLength?: number; maxLength?: number };

/** Every route of the contract, as OpenAPI names it, and whether it demands a Bearer token. */
const CONTRACT_ROUTES: [method: string, path: string, access: 'bearer' | 'public' | 'either'][] = [
  ['post', '/auth/register', 'public'],
  ['post', '/auth/login', 'public'],
  ['post', '/auth/refresh', 'either'],
  ['post', '/auth/logout', 'either'],
  ['post', '/auth/logout-all', 'bearer'],
  ['get', '/auth/sessions', 'bearer'],
  ['delete', '/auth/sessions/{id}', 'bearer'],
  ['post', '/auth/password', 'bearer'],
  ['get', '/users/me', 'bearer'],
  ['get', '/auth/claims', 'bearer'],
  ['get', '/.well-known/jwks.json', 'public'],
  ['get', '/health', 'public'],
  ['get', '/health/live', 'public'],
];

describe('docs', () => {
  let app: TestApp;
  let document: {
    openapi: string;
    servers?: { url: string }[];
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
  };
  beforeAll(async () => {
    app = await startTestApp();
    const response = await app.request('GET', '/docs-json');
    expect(response.status).toBe(200);
    document = response.body;
  });
  afterAll(() => app.close());

  const operation = (method: string, path: string): Operation => {
    const found = document.paths[path]?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the OpenAPI document`);
    return found;
  };
  const resolve = (schema: Schema): Schema => (schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema);
  const responseSchema = (method: string, path: string, status: string): Schema => {
    const content = operation(method, path).responses[status]?.content;
    expect(content?.['application/json']).toBeDefined();
    return resolve(content!['application/json'].schema);
  };
  const bodySchema = (method: string, path: string): Schema => {
    const content = operation(method, path).requestBody?.content;
    expect(content?.['application/json']).toBeDefined();
    return resolve(content!['application/json'].schema);
  };
  /** The codes an operation documents for a status: its error schema's `code` enum. */
  const documentedCodes = (method: string, path: string, status: string): string[] => {
    const response = operation(method, path).responses[status];
    expect(response).toBeDefined();
    const schema = resolve(response.content!['application/json'].schema);
    expect(schema.required?.sort()).toEqual(['code', 'error', 'message', 'statusCode']);
    expect(schema.properties!.statusCode).toEqual({ type: 'integer', enum: [Number(status)] });
    return schema.properties!.code.enum as string[];
  };
  const operations = () => Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, found]) => ({ route: `${method} ${path}`, ...found })));

  it('serves Swagger UI at /docs', async () => {
    const response = await fetch(`${app.baseUrl}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/swagger-ui/i);
    // Its assets load too.
    const asset = html.match(/src="([^"]*swagger-ui-bundle\.js)"/)?.[1];
    expect(asset).toBeDefined();
    const bundle = await fetch(new URL(asset!, response.url));
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    // Read to the end, or the open response keeps app.close() waiting.
    expect((await bundle.text()).length).toBeGreaterThan(1000);
  });

  it('serves an OpenAPI 3 document at /docs-json with every route of the contract', () => {
    expect(document.openapi).toMatch(/^3\./);
    for (const [method, path] of CONTRACT_ROUTES) expect(operation(method, path)).toBeDefined();
  });

  it('documents every contract error code, each response only with the codes of its own status', () => {
    const seen = new Set<string>();
    for (const { route, responses } of operations()) {
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) < 400) continue;
        const codes = documentedCodes(...(route.split(' ') as [string, string]), status);
        for (const code of codes) seen.add(code);
        // Each code has its own example, answering with that very status and code.
        const examples = response.content!['application/json'].examples!;
        expect({ route, status, examples: Object.keys(examples).sort() }).toEqual({ route, status, examples: [...codes].sort() });
        for (const [code, { value }] of Object.entries(examples)) expect(value).toMatchObject({ statusCode: Number(status), code });
      }
    }
    for (const code of CONTRACT_CODES) expect(seen).toContain(code);
    expect(documentedCodes('post', '/auth/login', '401')).toEqual(['invalid_credentials']);
    expect(documentedCodes('get', '/users/me', '401').sort()).toEqual(['session_revoked', 'token_expired', 'token_invalid']);
    // Two decorators documenting the same status (the Bearer guard's and the route's own 401) add up.
    expect(documentedCodes('post', '/auth/password', '401').sort()).toEqual(['invalid_credentials', 'session_revoked', 'token_expired', 'token_invalid']);
  });

  it('names every operation after its handler, with a summary, a description and a tag', () => {
    const ids = operations().map(({ operationId }) => operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operation('post', '/auth/register').operationId).toBe('register');
    expect(operation('post', '/auth/login').operationId).toBe('login');
    expect(operation('post', '/auth/refresh').operationId).toBe('refresh');
    for (const { route, operationId, summary, description, tags } of operations()) {
      expect({ route, operationId }).toEqual({ route, operationId: expect.stringMatching(/^[a-z][A-Za-z]+$/) });
      expect({ route, summary: !!summary, description: !!description, tags: tags?.length }).toEqual({ route, summary: true, description: true, tags: 1 });
    }
    expect(document.servers?.length).toBeGreaterThan(0);
  });

  it('gives every request body and every JSON response an example', () => {
    for (const { route, requestBody, responses } of operations()) {
      const bodies = [['body', requestBody], ...Object.entries(responses)] as [string, { content?: Record<string, Media> } | undefined][];
      for (const [label, body] of bodies) {
        for (const media of Object.values(body?.content ?? {})) {
          expect({ route, label, example: media.example !== undefined || media.examples !== undefined }).toEqual({ route, label, example: true });
        }
      }
    }
  });

  it('declares the headers: Set-Cookie where the cookie is set or expired, X-Requested-With where it is read, Retry-After, WWW-Authenticate', () => {
    const header = (method: string, path: string, status: string, name: string) => operation(method, path).responses[status].headers?.[name];
    for (const [method, path, status] of [['post', '/auth/login', '200'], ['post', '/auth/refresh', '200'], ['post', '/auth/logout', '204'], ['post', '/auth/logout-all', '204']]) {
      expect(header(method, path, status, 'Set-Cookie')).toMatchObject({ required: true });
    }
    for (const path of ['/auth/refresh', '/auth/logout']) {
      expect(operation('post', path).parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'X-Requested-With', required: false }));
    }
    for (const { route, responses } of operations()) {
      for (const [status, response] of Object.entries(responses)) {
        if (status === '429' || status === '503') expect({ route, status, header: response.headers?.['Retry-After'] }).toMatchObject({ route, status, header: { required: true, schema: { type: 'integer' } } });
      }
    }
    expect(header('get', '/users/me', '401', 'WWW-Authenticate')).toMatchObject({ required: true });
    // The login's 401 is about a password, not a token: no challenge.
    expect(header('post', '/auth/login', '401', 'WWW-Authenticate')).toBeUndefined();
  });

  it('declares 413 and 415 on every route that takes a body, and integers as integers', () => {
    for (const { route, requestBody, responses } of operations()) {
      if (!requestBody) continue;
      expect({ route, statuses: Object.keys(responses) }).toEqual({ route, statuses: expect.arrayContaining(['400', '413', '415']) });
    }
    const pair = responseSchema('post', '/auth/login', '200').properties!;
    expect(pair.expiresIn.type).toBe('integer');
    expect(pair.refreshTokenExpiresIn.type).toBe('integer');
    const claims = responseSchema('get', '/auth/claims', '200').properties!;
    expect([claims.iat.type, claims.exp.type]).toEqual(['integer', 'integer']);
  });

  it('documents the health bodies', () => {
    expect(responseSchema('get', '/health', '200').properties!.status.enum).toEqual(['ok']);
    expect(responseSchema('get', '/health/live', '200').properties!.status.enum).toEqual(['ok']);
  });

  it('documents the errors each route can answer with', () => {
    expect(documentedCodes('post', '/auth/register', '409')).toContain('email_taken');
    expect(documentedCodes('post', '/auth/register', '400')).toContain('validation_failed');
    expect(documentedCodes('post', '/auth/register', '429')).toContain('rate_limited');
    expect(documentedCodes('post', '/auth/login', '401')).toContain('invalid_credentials');
    expect(documentedCodes('post', '/auth/login', '429')).toContain('rate_limited');
    expect(documentedCodes('post', '/auth/login', '503')).toContain('service_unavailable');
    const refresh401 = documentedCodes('post', '/auth/refresh', '401');
    for (const code of ['refresh_token_invalid', 'refresh_token_expired', 'refresh_token_reused', 'session_revoked']) expect(refresh401).toContain(code);
    expect(documentedCodes('post', '/auth/refresh', '403')).toContain('csrf_rejected');
    expect(documentedCodes('post', '/auth/refresh', '429')).toContain('rate_limited');
    expect(documentedCodes('post', '/auth/logout', '403')).toContain('csrf_rejected');
    expect(documentedCodes('post', '/auth/password', '401')).toContain('invalid_credentials');
    expect(documentedCodes('post', '/auth/password', '429')).toContain('rate_limited');
    expect(documentedCodes('delete', '/auth/sessions/{id}', '404')).toContain('session_not_found');
    expect(documentedCodes('get', '/health', '503')).toContain('service_unavailable');
    for (const [method, path] of [['get', '/users/me'], ['get', '/auth/claims'], ['get', '/auth/sessions'], ['post', '/auth/logout-all']]) {
      const codes = documentedCodes(method, path, '401');
      for (const code of ['token_invalid', 'token_expired', 'session_revoked']) expect(codes).toContain(code);
      expect(codes).not.toContain('invalid_credentials');
    }
  });

  it('marks Bearer routes with the bearer scheme and public ones with security: []', () => {
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const bearer = (method: string, path: string) => (operation(method, path).security ?? []).some((requirement) => 'bearer' in requirement);
    // 'either' routes (refresh, logout) take a refresh token without a Bearer one; they are checked elsewhere.
    for (const [method, path, access] of CONTRACT_ROUTES.filter(([, , access]) => access !== 'either')) {
      expect({ route: `${method} ${path}`, bearer: bearer(method, path) }).toEqual({ route: `${method} ${path}`, bearer: access === 'bearer' });
      if (access === 'public') expect({ route: `${method} ${path}`, security: operation(method, path).security }).toEqual({ route: `${method} ${path}`, security: [] });
    }
    // The refresh token also comes in the body, which no security scheme describes: `{}` says none is needed.
    expect(operation('post', '/auth/refresh').security).toEqual(expect.arrayContaining([{ refreshCookie: [] }, {}]));
    expect(operation('post', '/auth/logout').security).toEqual(expect.arrayContaining([{ bearer: [] }, { refreshCookie: [] }, {}]));
  });

  it('documents the request bodies with their rules', () => {
    const register = bodySchema('post', '/auth/register');
    expect(Object.keys(register.properties!).sort()).toEqual(['displayName', 'email', 'password']);
    expect(register.required?.sort()).toEqual(['email', 'password']);
    expect(register.properties!.password).toMatchObject({ minLength: 8, maxLength: 128 });
    const loginBody = bodySchema('post', '/auth/login');
    expect(Object.keys(loginBody.properties!).sort()).toEqual(['email', 'password']);
    const password = bodySchema('post', '/auth/password');
    expect(Object.keys(password.properties!).sort()).toEqual(['currentPassword', 'newPassword']);
    expect(password.properties!.newPassword).toMatchObject({ minLength: 8, maxLength: 128 });
    expect(Object.keys(bodySchema('post', '/auth/refresh').properties!)).toEqual(['refreshToken']);
    expect(Object.keys(bodySchema('post', '/auth/logout').properties!)).toEqual(['refreshToken']);
  });

  it('documents the success responses with the contract shapes', () => {
    const user = ['createdAt', 'displayName', 'email', 'id', 'roles'];
    expect(Object.keys(responseSchema('post', '/auth/register', '201').properties!).sort()).toEqual(user);
    expect(Object.keys(responseSchema('get', '/users/me', '200').properties!).sort()).toEqual(user);
    const pair = ['accessToken', 'expiresIn', 'refreshToken', 'refreshTokenExpiresIn', 'sessionId', 'tokenType'];
    expect(Object.keys(responseSchema('post', '/auth/login', '200').properties!).sort()).toEqual(pair);
    expect(Object.keys(responseSchema('post', '/auth/refresh', '200').properties!).sort()).toEqual(pair);
    expect(Object.keys(responseSchema('get', '/auth/claims', '200').properties!).sort()).toEqual(['exp', 'iat', 'roles', 'sid', 'sub']);
    const sessions = responseSchema('get', '/auth/sessions', '200');
    expect(sessions.type).toBe('array');
    expect(Object.keys(resolve(sessions.items!).properties!).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent']);
    expect(responseSchema('get', '/.well-known/jwks.json', '200').properties!.keys).toBeDefined();
    for (const [method, path] of [['post', '/auth/logout'], ['post', '/auth/logout-all'], ['delete', '/auth/sessions/{id}'], ['post', '/auth/password']]) {
      expect(operation(method, path).responses['204']).toBeDefined();
    }
    expect(operation('get', '/health').responses['200']).toBeDefined();
    expect(operation('get', '/health/live').responses['200']).toBeDefined();
  });

  it('never documents a password hash in a response', () => {
    for (const schema of Object.values(document.components.schemas)) {
      expect(Object.keys(schema.properties ?? {}).filter((name) => /hash/i.test(name))).toEqual([]);
    }
  });
});

describe('security headers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const json = { 'content-type': 'application/json' };

  it('X-Content-Type-Options: nosniff on every response: success, error, docs, and errors answered before any route', async () => {
    const user = await registerAndLogin(app, 'nosniff');
    const responses: [string, number, { status: number; headers: Headers }][] = [
      ['health', 200, await app.request('GET', '/health/live')],
      ['register', 201, await app.request('POST', '/auth/register', { body: { email: uniqueEmail(), password: PASSWORD } })],
      ['users/me', 200, await app.request('GET', '/users/me', { token: user.accessToken })],
      ['401', 401, await app.request('GET', '/users/me')],
      ['404', 404, await app.request('GET', '/nope')],
      ['405', 405, await app.request('GET', '/auth/login')],
      ['malformed JSON', 400, await app.request('POST', '/auth/login', { rawBody: '{"email":', headers: json })],
      ['415', 415, await app.request('POST', '/auth/login', { rawBody: 'x', headers: { 'content-type': 'text/plain' } })],
      ['413', 413, await app.request('POST', '/auth/login', { rawBody: `{"password": "${'p'.repeat(20_000)}"}`, headers: json })],
      ['docs-json', 200, await app.request('GET', '/docs-json')],
      ['logout 204', 204, await app.request('POST', '/auth/logout', { token: user.accessToken })],
    ];
    const docs = await fetch(`${app.baseUrl}/docs`);
    await docs.text();
    responses.push(['docs', 200, docs]);
    const asset = await fetch(`${app.baseUrl}/docs/swagger-ui.css`);
    await asset.text();
    responses.push(['docs asset', 200, asset]);
    for (const [label, status, response] of responses) {
      expect({ label, status: response.status, header: response.headers.get('x-content-type-options') }).toEqual({ label, status, header: 'nosniff' });
    }
  });

  it('serves /docs with a Content-Security-Policy that Swagger UI works under', async () => {
    const response = await fetch(`${app.baseUrl}/docs`);
    const html = await response.text();
    const policy = response.headers.get('content-security-policy');
    expect(policy).not.toBeNull();
    const directives = new Map(policy!.split(';').map((directive) => {
      const [name, ...sources] = directive.trim().split(/\s+/);
      return [name, sources] as const;
    }));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    // Every script of the page is a file of our own origin (no inline script the policy would block), and loads.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const [, attributes, inline] of scripts) {
      expect(inline.trim()).toBe('');
      const src = new URL(attributes.match(/src="([^"]+)"/)![1], response.url);
      expect(src.origin).toBe(new URL(app.baseUrl).origin);
      const script = await fetch(src);
      expect({ src: src.pathname, status: script.status }).toEqual({ src: src.pathname, status: 200 });
      await script.text();
    }
    // The page styles itself inline, and the policy allows that.
    expect(html).toMatch(/<style>/);
    expect(directives.get('style-src')).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
    expect(directives.get('img-src')).toEqual(expect.arrayContaining(["'self'", 'data:']));
  });

  it('Cache-Control: no-store on every response with personal data or tokens', async () => {
    const email = uniqueEmail('no-store');
    const register = await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
    expect(register.status).toBe(201);
    const login = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
    const { accessToken, refreshToken } = login.body;
    const responses: [string, { status: number; headers: Headers }][] = [
      ['register', register],
      ['login', login],
      ['users/me', await app.request('GET', '/users/me', { token: accessToken })],
      ['claims', await app.request('GET', '/auth/claims', { token: accessToken })],
      ['sessions', await app.request('GET', '/auth/sessions', { token: accessToken })],
      ['refresh', await app.request('POST', '/auth/refresh', { body: { refreshToken } })],
      ['an error', await app.request('GET', '/users/me')],
    ];
    for (const [label, response] of responses) {
      expect({ label, status: response.status < 300 || response.status === 401, cacheControl: response.headers.get('cache-control') }).toEqual({
        label,
        status: true,
        cacheControl: 'no-store',
      });
    }
  });
});

describe('health', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('GET /health answers 200 when the database answers', async () => {
    const response = await app.request('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.info?.database?.status).toBe('up');
  });

  it('GET /health/live answers 200', async () => {
    const response = await app.request('GET', '/health/live');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('needs no token, and ignores a bad one', async () => {
    expect((await app.request('GET', '/health', { token: 'garbage' })).status).toBe(200);
    expect((await app.request('GET', '/health/live', { token: 'garbage' })).status).toBe(200);
  });
});

// createApp does not start at all when the database is unreachable (@nestjs/typeorm retries the first
// connection 10 times, 3 s apart, then Nest exits the process), so the outage is staged after start-up:
// the app reaches the real test database through a TCP proxy the test cuts and restores.
describe('when the database becomes unreachable', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  beforeAll(async () => {
    const through = await proxyToTestDatabase();
    proxy = through.proxy;
    app = await startTestApp({}, through.url);
  });
  afterAll(async () => {
    await app.close();
    await proxy.stop();
  });

  it('answers 503 service_unavailable where the database is needed, stays live, writes nothing, and recovers', async () => {
    const user = await registerAndLogin(app, 'outage');
    const newcomer = uniqueEmail('outage-new');
    expect((await app.request('GET', '/health')).status).toBe(200);

    await proxy.cut();

    const health = await app.request('GET', '/health');
    expectErrorBody(health, 503, 'service_unavailable');
    expect((await app.request('GET', '/health/live')).status).toBe(200);

    const secrets = [user.refreshToken, user.accessToken, PASSWORD];
    expectErrorBody(await app.request('POST', '/auth/login', { body: { email: user.email, password: PASSWORD } }), 503, 'service_unavailable', secrets);
    expectErrorBody(await app.request('POST', '/auth/login', { body: { email: uniqueEmail('nobody'), password: PASSWORD } }), 503, 'service_unavailable', secrets);
    expectErrorBody(await app.request('POST', '/auth/register', { body: { email: newcomer, password: PASSWORD } }), 503, 'service_unavailable', secrets);
    expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }), 503, 'service_unavailable', secrets);
    // Size and shape checks still answer without the database.
    expectErrorBody(await app.request('POST', '/auth/register', { body: { email: 'nope', password: PASSWORD } }), 400, 'validation_failed');

    await proxy.restore();

    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await app.request('GET', '/health')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    // The refresh refused during the outage did not rotate or revoke anything.
    const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.sessionId).toBe(user.sessionId);
    // The refused registration left no account behind.
    expectErrorBody(await app.request('POST', '/auth/login', { body: { email: newcomer, password: PASSWORD } }), 401, 'invalid_credentials');
    expect((await app.request('POST', '/auth/register', { body: { email: newcomer, password: PASSWORD } })).status).toBe(201);
    expect((await login(app, user.email)).sessionId).not.toBe(user.sessionId);
  });
});
