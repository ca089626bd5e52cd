import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, httpRequest, startServiceProcess } from './support/service-process.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, uniqueEmail } from './support/users.js';

// The built command-line tools (`npm run user:create` / `user:roles` run these) as real processes.
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(script: 'user-create' | 'user-roles', args: string[], env: Record<string, string>, stdin: string | Buffer = ''): Promise<Run> {
  const child = spawn(process.execPath, [`dist/scripts/${script}.js`, ...args], { env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin);
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

describe('user:create and user:roles', () => {
  let app: TestApp;
  let db: pg.Pool;
  const env = {
    DATABASE_URL: process.env.TEST_DATABASE_URL!,
    DATA_DIR: process.env.TEST_DATA_DIR!,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
  };
  beforeAll(async () => {
    app = await startTestApp();
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await db?.end();
    await app?.close();
  });

  const rolesOf = async (accessToken: string) => (await app.request('GET', '/auth/claims', { token: accessToken })).body.roles;

  it('creates a user with the password read from stdin; the user logs in with the roles given', async () => {
    const email = uniqueEmail('cli-admin');
    const created = await run('user-create', ['--email', email.toUpperCase(), '--role', 'admin'], env, `${PASSWORD}\n`);
    expect(created).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`^created user ${email} \\(.+\\) with roles admin\\n$`)), stderr: '' });

    const tokens = await login(app, email);
    expect(await rolesOf(tokens.accessToken)).toEqual(['admin']);
    expect((await app.request('GET', '/admin/users?limit=1', { token: tokens.accessToken })).status).toBe(200);
    // Written before the process ended: no waiting for the batch writer here.
    const { rows } = await db.query(
      `SELECT e.detail FROM auth_events e JOIN auth_users u ON u.id::text = e.user_id WHERE e.type = 'roles_changed' AND u.email = $1`,
      [email],
    );
    expect(rows).toEqual([{ detail: { from: ['user'], to: ['admin'], actor: null } }]);
  });

  it('takes the piped password as it is, less one line ending, and the user role by default', async () => {
    const email = uniqueEmail('cli-stdin');
    const password = '  spaced out password\t';
    expect((await run('user-create', ['--email', email, '--display-name', 'Ada'], env, `${password}\r\n`)).code).toBe(0);
    const tokens = await login(app, email, password);
    expect(await rolesOf(tokens.accessToken)).toEqual(['user']);
    expect((await app.request('GET', '/users/me', { token: tokens.accessToken })).body.displayName).toBe('Ada');
  });

  it.each([
    ['a lone CR', '\r'],
    ['no line ending', ''],
  ])('drops %s at the end of the piped password too', async (_label, ending) => {
    const email = uniqueEmail('cli-ending');
    expect((await run('user-create', ['--email', email], env, `${PASSWORD}${ending}`)).code).toBe(0);
    expect((await login(app, email)).accessToken).toEqual(expect.any(String));
  });

  it.each([
    // Decoded leniently, each bad byte would become U+FFFD: another password than the one typed.
    ['a password that is not UTF-8', Buffer.concat([Buffer.from('p'), Buffer.from([0xe4]), Buffer.from('ssword-123\n')]), /not UTF-8/, 'ssword-123'],
    ['two lines', `${PASSWORD}\nsecond line\n`, /one line/, 'second line'],
    ['a file piped by mistake', 'x'.repeat(100_000), /too long/, 'x'.repeat(32)],
  ])('refuses %s with exit 1, creates nothing and echoes nothing', async (_label, stdin, message, secret) => {
    const email = uniqueEmail('cli-stdin-bad');
    const refused = await run('user-create', ['--email', email], env, stdin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(message);
    expect(refused.stderr + refused.stdout).not.toContain(secret);
    expect((await db.query('SELECT 1 FROM auth_users WHERE email = $1', [email])).rowCount).toBe(0);
  });

  it('refuses a taken email with exit 1 and a message', async () => {
    const email = uniqueEmail('cli-taken');
    expect((await run('user-create', ['--email', email], env, PASSWORD)).code).toBe(0);
    const again = await run('user-create', ['--email', email, '--role', 'admin'], env, 'another password');
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/already exists/);
    // The first password and roles stand.
    expect(await rolesOf((await login(app, email)).accessToken)).toEqual(['user']);
  });

  it.each([
    ['a too short password', 'short', /password must be longer than or equal to 8 characters/],
    ['an empty password', '', /password must be longer than or equal to 8 characters/],
    ['a password of only spaces', '          ', /password must not be only whitespace/],
  ])('refuses %s with exit 1 and creates nothing', async (_label, password, message) => {
    const email = uniqueEmail('cli-short');
    const refused = await run('user-create', ['--email', email], env, password);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(message);
    expect((await db.query('SELECT 1 FROM auth_users WHERE email = $1', [email])).rowCount).toBe(0);
  });

  it('refuses an invalid email or role name with exit 1', async () => {
    const badEmail = await run('user-create', ['--email', 'not-an-email'], env, PASSWORD);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr).toMatch(/email must be an email/);
    expect((await db.query('SELECT 1 FROM auth_users WHERE email = $1', ['not-an-email'])).rowCount).toBe(0);
    const badRole = await run('user-create', ['--email', uniqueEmail('cli-role'), '--role', 'super admin'], env, PASSWORD);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/role/);
  });

  it('user:roles replaces the roles; the user gets them at the next refresh', async () => {
    const email = uniqueEmail('cli-roles');
    expect((await run('user-create', ['--email', email], env, PASSWORD)).code).toBe(0);
    const tokens = await login(app, email);
    const set = await run('user-roles', ['--email', email, '--role', 'admin', '--role', 'user'], env);
    expect(set).toEqual({ code: 0, stdout: expect.stringMatching(new RegExp(`^set the roles of ${email} \\(.+\\) to admin, user\\n$`)), stderr: '' });
    const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    expect(await rolesOf(refreshed.body.accessToken)).toEqual(['admin', 'user']);
  });

  it('user:roles refuses an unknown email with exit 1', async () => {
    const refused = await run('user-roles', ['--email', uniqueEmail('cli-nobody'), '--role', 'admin'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not found/i);
  });

  it.each([
    ['user-create', [], /--email is required/],
    ['user-create', ['--email', 'a@example.test', '--bogus'], /Unknown option '--bogus'/],
    ['user-create', ['--email', 'a@example.test', 'extra'], /positional/],
    ['user-roles', ['--email', 'a@example.test'], /--role is required/],
    ['user-roles', ['--role', 'admin'], /--email is required/],
  ] as const)('%s %j is a usage error: exit 2 with the usage', async (script, args, message) => {
    const refused = await run(script, [...args], env, PASSWORD);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(message);
    expect(refused.stderr).toMatch(/usage: npm run -s user:/);
  });

  it('without DATABASE_URL: starts the embedded development server when nothing runs it, joins it while the service does', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'auth-cli-')), 'data');
    const devEnv = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), NODE_ENV: 'development', LOG_LEVEL: 'silent', RATE_LIMIT: 'off' };
    try {
      expect((await run('user-create', ['--email', 'first@example.test', '--role', 'admin'], devEnv, PASSWORD)).code).toBe(0);
      const service = await startServiceProcess(devEnv, await freePort(), 60_000);
      try {
        const joined = await run('user-create', ['--email', 'second@example.test'], devEnv, PASSWORD);
        expect(joined).toEqual({ code: 0, stdout: expect.stringMatching(/^created user second@example.test/), stderr: '' });
        for (const email of ['first@example.test', 'second@example.test']) {
          const loggedIn = await httpRequest(service.baseUrl, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
          expect(loggedIn.status).toBe(200);
        }
      } finally {
        service.child.kill('SIGTERM');
        await service.exited;
      }
    } finally {
      await rm(join(dataDir, '..'), { recursive: true, force: true });
    }
  }, 120_000);
});
