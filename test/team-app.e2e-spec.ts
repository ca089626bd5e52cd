import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './support/service-process.js';

/*
 * examples/team-app as a team would run it: this repository packed with `npm pack`, installed from
 * the tarball into a copy of the example, compiled with tsc, and started as `node dist/main.js`
 * (Express) over its own database, twice: with the package's global guard and without it.
 * Nothing is imported from src/; the app is driven over HTTP on real ports.
 */

const execFileAsync = promisify(execFile);
const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(REPOSITORY, 'examples', 'team-app');
const PASSWORD = 'correct horse battery';
const SETUP_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 90_000;
/** The team app's own table (examples/team-app's CreateTeamUsers migration), not the package's. */
const TEAM_USERS = 'users';

/** The end of a long output, enough to see why something failed. */
function tail(text: string | undefined, max = 8000): string {
  if (!text) return '(empty)';
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/** Our environment without what `npm test` and Jest add (npm_* settings, --experimental-vm-modules). */
function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.toLowerCase().startsWith('npm_')) continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command to completion; a failure names the step and carries its output. */
async function run(step: string, command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd,
      env: toolEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: SETUP_TIMEOUT_MS,
    });
    return stdout;
  } catch (error) {
    const failure = error as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message?: string };
    throw new Error(
      `${step} failed: \`${command} ${args.join(' ')}\` in ${cwd} ended with ${String(failure.code ?? failure.signal)}` +
        `\n--- stdout ---\n${tail(failure.stdout)}\n--- stderr ---\n${tail(failure.stderr ?? failure.message)}`,
    );
  }
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A running `node dist/main.js` of the team app. */
interface TeamApp {
  name: string;
  baseUrl: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  output(): string;
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  describe(): string;
}

async function call(
  app: TeamApp,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const response = await fetch(`${app.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the assertion shows the text.
  }
  return {
    status: response.status,
    headers: response.headers,
    body: parsed,
    describe: () =>
      `${method} ${path} on the ${app.name} app answered ${response.status} ${JSON.stringify(parsed)}` +
      `\n--- ${app.name} app output ---\n${tail(app.output(), 4000)}`,
  };
}

/** Fails with the request, the answer and the app's log when the status is not the expected one. */
function expectStatus(reply: Reply, status: number): void {
  if (reply.status !== status) throw new Error(`expected ${status}: ${reply.describe()}`);
}

/** The package's own error shape, exactly these keys (validation errors may add `details`). */
function expectPackageError(reply: Reply, status: number, code: string, extraKeys: string[] = []): void {
  expectStatus(reply, status);
  expect(reply.body).toMatchObject({ statusCode: status, code });
  expect(typeof reply.body.error).toBe('string');
  expect(typeof reply.body.message).toBe('string');
  const keys = Object.keys(reply.body).filter((key) => !extraKeys.includes(key));
  expect(keys.sort()).toEqual(['code', 'error', 'message', 'statusCode']);
}

function jwtPayload(token: string): Record<string, any> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

interface TokenPair {
  accessToken: string;
  tokenType: string;
  refreshToken: string;
  sessionId: string;
}

describe('a team app on Express using the package from its npm pack tarball', () => {
  let work: string;
  let appDir: string;
  let teamDatabase: pg.Client;
  const apps: TeamApp[] = [];
  let guarded: TeamApp; // globalGuard: true (the default)
  let unguarded: TeamApp; // TEAM_GLOBAL_GUARD=false
  let customGuard: TeamApp; // TEAM_CUSTOM_GUARD=true: the team's JwtAuthGuard subclass bound as APP_GUARD
  let filesBeforeStart: string[];

  async function startTeamApp(name: string, env: Record<string, string>): Promise<TeamApp> {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: appDir,
      env: { PATH: process.env.PATH, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let exited = false;
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const app: TeamApp = {
      name,
      baseUrl: `http://127.0.0.1:${port}`,
      child,
      exited: once(child, 'exit').then(([code, signal]) => {
        exited = true;
        return { code, signal };
      }),
      hasExited: () => exited,
      output: () => output,
    };
    apps.push(app);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) {
        const { code, signal } = await app.exited;
        throw new Error(`the ${name} team app exited (${code ?? signal}) before answering:\n${tail(output)}`);
      }
      const status = await fetch(`${app.baseUrl}/team/hello`).then((response) => response.status, () => 0);
      if (status === 200) return app;
      if (status !== 0) throw new Error(`the ${name} team app answers GET /team/hello with ${status}:\n${tail(output)}`);
      await sleep(200);
    }
    throw new Error(`the ${name} team app did not answer within ${START_TIMEOUT_MS / 1000} s:\n${tail(output)}`);
  }

  async function register(app: TeamApp, label: string, domain = 'example.test') {
    const email = `${label}-${randomUUID()}@${domain}`;
    const reply = await call(app, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
    expectStatus(reply, 201);
    return { email, id: reply.body.id as string, body: reply.body };
  }

  async function login(app: TeamApp, email: string): Promise<TokenPair> {
    const reply = await call(app, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    expectStatus(reply, 200);
    return reply.body;
  }

  async function userRow(email: string) {
    const { rows } = await teamDatabase.query(
      `SELECT id, pg_typeof(id)::text AS id_type, tenant_id, is_admin FROM ${TEAM_USERS} WHERE email = $1`,
      [email],
    );
    expect(rows).toHaveLength(1);
    return rows[0] as { id: number; id_type: string; tenant_id: string; is_admin: boolean };
  }

  /** Polls until `app` refuses `token` on `path` with `session_revoked` (revocation reaches every instance within 1 s). */
  async function refusedAsRevoked(app: TeamApp, path: string, token: string): Promise<void> {
    const started = Date.now();
    let reply = await call(app, 'GET', path, { token });
    while (reply.status === 200 && Date.now() - started < 1000) {
      await sleep(20);
      reply = await call(app, 'GET', path, { token });
    }
    expectPackageError(reply, 401, 'session_revoked');
  }

  beforeAll(async () => {
    const testUrl = process.env.TEST_DATABASE_URL;
    if (!testUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (global-setup)');
    if (!existsSync(join(REPOSITORY, 'dist'))) throw new Error('dist/ is missing: `npm test` builds first (npm run build)');
    work = await mkdtemp(join(tmpdir(), 'team-app-e2e-'));
    appDir = join(work, 'team-app');

    const url = new URL(testUrl);
    const databaseName = `${decodeURIComponent(url.pathname.slice(1))}_team`;
    if (!/test/i.test(databaseName)) throw new Error(`Refusing to use database "${databaseName}": its name must contain "test".`);
    const connection = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username) || process.env.PGUSER || userInfo().username,
      password: decodeURIComponent(url.password),
    };

    const createDatabase = async () => {
      const admin = new pg.Client({ connectionString: testUrl });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(databaseName)} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${quoteIdentifier(databaseName)}`);
      } finally {
        await admin.end();
      }
    };

    const installAndBuild = async () => {
      const packed = await run('npm pack', 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPOSITORY);
      let tarball: string;
      try {
        tarball = join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0].filename);
      } catch {
        throw new Error(`npm pack printed no JSON file list:\n${tail(packed)}`);
      }
      await cp(EXAMPLE, appDir, {
        recursive: true,
        filter: (source) => !relative(EXAMPLE, source).split(sep).some((part) => part === 'node_modules' || part === 'dist'),
      });
      const npmFlags = ['--no-audit', '--no-fund', '--prefer-offline'];
      await run('npm install (the team app)', 'npm', ['install', ...npmFlags], appDir);
      await run('npm install (the package tarball)', 'npm', ['install', '--no-save', ...npmFlags, tarball], appDir);
      await run('tsc (the team app)', 'npx', ['--no', '--', 'tsc', '-p', 'tsconfig.json'], appDir);
    };

    await Promise.all([createDatabase(), installAndBuild()]);

    const env = {
      TEAM_DB_HOST: connection.host,
      TEAM_DB_PORT: String(connection.port),
      TEAM_DB_USER: connection.user,
      TEAM_DB_PASSWORD: connection.password,
      TEAM_DB_NAME: databaseName,
      TEAM_JWT_SECRET: randomBytes(48).toString('base64url'),
      TEAM_REFRESH_SECRET: randomBytes(48).toString('base64url'),
    };
    // One after the other: the first applies the migrations, the second finds them applied.
    filesBeforeStart = await readdir(appDir, { recursive: true });
    guarded = await startTeamApp('globalGuard', env);
    unguarded = await startTeamApp('no-globalGuard', { ...env, TEAM_GLOBAL_GUARD: 'false' });
    customGuard = await startTeamApp('custom-guard', { ...env, TEAM_CUSTOM_GUARD: 'true' });

    teamDatabase = new pg.Client({ ...connection, password: connection.password || undefined, database: databaseName });
    await teamDatabase.connect();
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await teamDatabase?.end();
    await Promise.all(
      apps.map(async (app) => {
        if (app.hasExited()) return;
        app.child.kill('SIGTERM');
        const forceKill = setTimeout(() => app.child.kill('SIGKILL'), 10_000);
        await app.exited;
        clearTimeout(forceKill);
      }),
    );
    if (work) await rm(work, { recursive: true, force: true });
  }, 30_000);

  it('registers and logs in through the package routes; the user lands in the team table with an integer id', async () => {
    const user = await register(guarded, 'alice', 'acme.test');
    const row = await userRow(user.email);
    expect(row.id_type).toBe('integer');
    expect(typeof row.id).toBe('number');
    expect(row.tenant_id).toBe('acme.test');
    expect(row.is_admin).toBe(false);
    expect(user.body).toMatchObject({ id: String(row.id), email: user.email, roles: ['user'] });
    expect(user.body).not.toHaveProperty('passwordHash');

    const tokens = await login(guarded, user.email);
    expect(tokens.tokenType).toBe('Bearer');
    expect(jwtPayload(tokens.accessToken).sub).toBe(String(row.id));

    const claims = await call(guarded, 'GET', '/auth/claims', { token: tokens.accessToken });
    expectStatus(claims, 200);
    expect(claims.body).toMatchObject({ sub: String(row.id), sid: tokens.sessionId, roles: ['user'] });

    const me = await call(guarded, 'GET', '/users/me', { token: tokens.accessToken });
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ id: String(row.id), email: user.email, roles: ['user'] });
  });

  it('refreshes with the token in the body; the rotated pair works', async () => {
    const user = await register(guarded, 'bob');
    const first = await login(guarded, user.email);
    const refreshed = await call(guarded, 'POST', '/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expectStatus(refreshed, 200);
    expect(refreshed.body.sessionId).toBe(first.sessionId);
    expect(refreshed.body.refreshToken).not.toBe(first.refreshToken);
    expect(refreshed.body.accessToken).not.toBe(first.accessToken);

    const me = await call(guarded, 'GET', '/team/me', { token: refreshed.body.accessToken });
    expectStatus(me, 200);
    expect(me.body.userId).toBe(user.id);

    const again = await call(guarded, 'POST', '/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } });
    expectStatus(again, 200);
  });

  it('logs out: the access token is then refused with session_revoked, on both instances', async () => {
    const user = await register(guarded, 'erin');
    const tokens = await login(guarded, user.email);
    expectStatus(await call(unguarded, 'GET', '/team/guarded', { token: tokens.accessToken }), 200);

    expectStatus(await call(guarded, 'POST', '/auth/logout', { token: tokens.accessToken }), 204);
    await refusedAsRevoked(guarded, '/team/me', tokens.accessToken);
    await refusedAsRevoked(unguarded, '/team/guarded', tokens.accessToken);
    const refresh = await call(guarded, 'POST', '/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    expectPackageError(refresh, 401, 'session_revoked');
  });

  it('puts the tenantId extra claim into the JWT and onto the principal', async () => {
    const user = await register(guarded, 'dave', 'globex.test');
    const tokens = await login(guarded, user.email);
    const payload = jwtPayload(tokens.accessToken);
    expect(payload).toMatchObject({ sub: user.id, sid: tokens.sessionId, roles: ['user'], tenantId: 'globex.test' });

    const me = await call(guarded, 'GET', '/team/me', { token: tokens.accessToken });
    expectStatus(me, 200);
    expect(me.body).toEqual({ userId: user.id, tenantId: 'globex.test', roles: ['user'] });
  });

  it('refuses a team route without a token: 401 token_invalid with WWW-Authenticate', async () => {
    const reply = await call(guarded, 'GET', '/team/me');
    expectPackageError(reply, 401, 'token_invalid');
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  });

  it('enforces @Roles(admin) from the team table: 403 forbidden, then 200 after is_admin and a new login', async () => {
    const user = await register(guarded, 'carol');
    const before = await login(guarded, user.email);
    expectPackageError(await call(guarded, 'GET', '/team/admin', { token: before.accessToken }), 403, 'forbidden');

    await teamDatabase.query(`UPDATE ${TEAM_USERS} SET is_admin = true WHERE id = $1`, [Number(user.id)]);
    const after = await login(guarded, user.email);
    const admin = await call(guarded, 'GET', '/team/admin', { token: after.accessToken });
    expectStatus(admin, 200);
    expect(admin.body).toEqual({ ok: true });
    const me = await call(guarded, 'GET', '/team/me', { token: after.accessToken });
    expectStatus(me, 200);
    expect(me.body.roles).toEqual(['admin', 'user']);
  });

  it('starts without the admin routes when its UserStore cannot serve them (nothing asked of the team)', async () => {
    expect((await call(guarded, 'GET', '/admin/users')).status).toBe(404);
  });

  it('serves @Public() team routes without a token, and the team exception in the team shape', async () => {
    const hello = await call(guarded, 'GET', '/team/hello');
    expectStatus(hello, 200);
    expect(hello.body).toEqual({ hello: 'world' });

    const teapot = await call(guarded, 'GET', '/team/teapot');
    expectStatus(teapot, 418);
    expect(teapot.body).toEqual({ teapot: true, reason: 'short and stout' });
  });

  it('globalGuard decides for undecorated routes; @UseGuards(JwtAuthGuard) always demands a token', async () => {
    expectPackageError(await call(guarded, 'GET', '/team/open'), 401, 'token_invalid');
    const open = await call(unguarded, 'GET', '/team/open');
    expectStatus(open, 200);
    expect(open.body).toEqual({ open: true });

    expectPackageError(await call(guarded, 'GET', '/team/guarded'), 401, 'token_invalid');
    expectPackageError(await call(unguarded, 'GET', '/team/guarded'), 401, 'token_invalid');

    const user = await register(unguarded, 'frank');
    const tokens = await login(unguarded, user.email);
    const withToken = await call(unguarded, 'GET', '/team/guarded', { token: tokens.accessToken });
    expectStatus(withToken, 200);
    expect(withToken.body).toEqual({ guarded: true, userId: user.id });
  });

  it('writes no file: the app folder is as it was before the apps started', async () => {
    expect(filesBeforeStart.length).toBeGreaterThan(10);
    expect((await readdir(appDir, { recursive: true })).sort()).toEqual([...filesBeforeStart].sort());
  });

  it("a JwtAuthGuard subclass bound as APP_GUARD replaces the package's global guard, never runs beside it", async () => {
    const internal = { 'x-team-internal': 'yes' };
    // Opened by the subclass's isPublic: had the package's own global guard run too, this would be 401.
    const open = await call(customGuard, 'GET', '/team/open', { headers: internal });
    expectStatus(open, 200);
    expect(open.body).toEqual({ open: true });
    expectPackageError(await call(customGuard, 'GET', '/team/open'), 401, 'token_invalid');

    const user = await register(customGuard, 'grace');
    const tokens = await login(customGuard, user.email);
    const me = await call(customGuard, 'GET', '/team/me', { token: tokens.accessToken });
    expectStatus(me, 200);
    expect(me.body.userId).toBe(user.id);
    // @Roles() routes still demand their role.
    expectPackageError(await call(customGuard, 'GET', '/team/admin', { token: tokens.accessToken }), 403, 'forbidden');
  });

  it('answers its own errors in the package shape on an Express host with no global pipe or filter', async () => {
    const badLogin = await call(guarded, 'POST', '/auth/login', {
      body: { email: `nobody-${randomUUID()}@example.test`, password: 'not the password' },
    });
    expectPackageError(badLogin, 401, 'invalid_credentials');

    const invalid = await call(guarded, 'POST', '/auth/register', { body: { email: 'not-an-email', password: 'short' } });
    expectPackageError(invalid, 400, 'validation_failed', ['details']);

    const unknownProperty = await call(guarded, 'POST', '/auth/register', {
      body: { email: `mallory-${randomUUID()}@example.test`, password: PASSWORD, isAdmin: true },
    });
    expectPackageError(unknownProperty, 400, 'validation_failed', ['details']);
  });
});
