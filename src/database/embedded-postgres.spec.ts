import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

const execFileAsync = promisify(execFile);
const asRoot = process.getuid?.() === 0;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = await connect(url);
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The URL's password replaced (undefined: none at all); resolves to the connection error, or undefined when it got in. */
async function refusal(url: string, password: string | undefined): Promise<Error | undefined> {
  const { hostname, port, pathname } = new URL(url);
  // No PGPASSWORD or ~/.pgpass fallback: an explicit empty string is sent as it is.
  const client = new pg.Client({ host: hostname, port: Number(port), user: 'postgres', database: pathname.slice(1), password: password ?? '' });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await client.end().catch(() => {});
  }
}

const passwordOf = (url: string): string => decodeURIComponent(new URL(url).password);
const fileMode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

describe('startEmbeddedPostgres', () => {
  let root: string;
  const servers: EmbeddedPostgres[] = [];
  const start = async (dataDir: string, log: string[] = []): Promise<EmbeddedPostgres> => {
    const server = await startEmbeddedPostgres({ dataDir, port: 0, durable: false, onLog: (line) => log.push(line) });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'embedded-pg-'));
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  });

  it('runs a real UTF8 PostgreSQL whose data survives a stop and restart', async () => {
    const dataDir = path.join(root, 'reuse');
    const first = await start(dataDir);
    const password = (await readFile(`${dataDir}-password`, 'utf8')).trim();
    expect(first.url).toBe(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${first.port}/auth`);

    const client = await connect(first.url);
    try {
      const [{ encoding }] = (await client.query<{ encoding: string }>(
        "SELECT current_setting('server_encoding') AS encoding",
      )).rows;
      expect(encoding).toBe('UTF8');
      const [{ fsync }] = (await client.query<{ fsync: string }>("SELECT current_setting('fsync') AS fsync")).rows;
      expect(fsync).toBe('off');

      await client.query('CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)');
      await client.query('INSERT INTO counter VALUES (1, 0)');
      await client.query('BEGIN');
      const locked = await client.query<{ value: number }>('SELECT value FROM counter WHERE id = 1 FOR UPDATE');
      expect(locked.rows).toEqual([{ value: 0 }]);
      await client.query('UPDATE counter SET value = value + 1 WHERE id = 1');
      await client.query('COMMIT');
    } finally {
      await client.end();
    }

    await first.stop();
    // A second stop of an exited server resolves (a hang would fail on the test's timeout).
    await expect(first.stop()).resolves.toBeUndefined();

    const second = await start(dataDir);
    const again = await connect(second.url);
    try {
      expect((await again.query('SELECT id, value FROM counter')).rows).toEqual([{ id: 1, value: 1 }]);
    } finally {
      await again.end();
    }
    await second.stop();
  }, 120_000);

  it('stops a live stale server on the same data dir and replaces it', async () => {
    const dataDir = path.join(root, 'stale');
    const staleLog: string[] = [];
    const stale = await start(dataDir, staleLog);
    const client = await connect(stale.url);
    await client.query('CREATE TABLE marker (note text)');
    await client.query("INSERT INTO marker VALUES ('kept')");
    await client.end();

    // Never stopped through its manager, as if its parent had been killed.
    const replacementLog: string[] = [];
    const replacement = await start(dataDir, replacementLog);

    expect(replacementLog.some((line) => line.includes('stopping stale server'))).toBe(true);
    expect(staleLog.some((line) => line.includes('database system is shut down'))).toBe(true);
    await expect(stale.stop()).resolves.toBeUndefined();

    const fresh = await connect(replacement.url);
    try {
      expect((await fresh.query('SELECT note FROM marker')).rows).toEqual([{ note: 'kept' }]);
    } finally {
      await fresh.end();
    }
    await replacement.stop();
  }, 120_000);

  it('accepts only its generated password, kept mode 0600 beside the data dir and reused after a restart', async () => {
    const dataDir = path.join(root, 'password');
    const passwordFile = `${dataDir}-password`;
    const server = await start(dataDir);
    const password = passwordOf(server.url);
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect((await readFile(passwordFile, 'utf8')).trim()).toBe(password);
    expect(await fileMode(passwordFile)).toBe(0o600);

    expect(await refusal(server.url, password)).toBeUndefined();
    expect((await refusal(server.url, undefined))?.message).toMatch(/password/i);
    expect(await refusal(server.url, 'not-the-password')).toMatchObject({ code: '28P01' });

    // Every rule, local socket included, demands SCRAM; and it listens on 127.0.0.1 only.
    const rules = await query<{ type: string; auth_method: string; error: string | null }>(
      server.url,
      'SELECT type, auth_method, error FROM pg_hba_file_rules',
    );
    expect(rules.map(({ type }) => type).sort()).toEqual(['host', 'local']);
    expect(rules.every(({ auth_method, error }) => auth_method === 'scram-sha-256' && error === null)).toBe(true);
    expect(await query(server.url, "SELECT current_setting('listen_addresses') AS listen")).toEqual([{ listen: '127.0.0.1' }]);

    await server.stop();
    const restarted = await start(dataDir);
    expect(passwordOf(restarted.url)).toBe(password);
    expect(await refusal(restarted.url, undefined)).toBeDefined();
    expect(await refusal(restarted.url, password)).toBeUndefined();
    await restarted.stop();
  }, 120_000);

  (asRoot ? it : it.skip)('refuses another local OS user (nobody) connecting as postgres without the password', async () => {
    const server = await start(path.join(root, 'nobody'));
    const { port } = server;
    // Run as nobody, from the repository so that `pg` resolves: the way another user on this machine would try.
    const script = `
      import pg from 'pg';
      const client = new pg.Client({ host: '127.0.0.1', port: Number(process.argv[1]), user: 'postgres', database: 'auth' });
      try {
        await client.connect();
        console.log((await client.query('SELECT current_user AS who')).rows[0].who);
      } catch (error) {
        console.log('refused: ' + error.message);
      } finally {
        await client.end().catch(() => {});
      }`;
    const { PGPASSWORD: _ignored, ...env } = process.env;
    const asNobody = async (extraEnv: NodeJS.ProcessEnv): Promise<string> =>
      (
        await execFileAsync('runuser', ['-u', 'nobody', '--', process.execPath, '--input-type=module', '-e', script, String(port)], {
          cwd: process.cwd(),
          env: { ...env, ...extraEnv },
        })
      ).stdout.trim();

    expect(await asNobody({})).toMatch(/^refused: .*password/i);
    // The control: the same user and client get in once they hold the password.
    expect(await asNobody({ PGPASSWORD: passwordOf(server.url) })).toBe('postgres');
    await server.stop();
  }, 120_000);

  it('re-secures a data dir made by the old trust setup: new password, password-only pg_hba.conf, data kept', async () => {
    const dataDir = path.join(root, 'legacy');
    const passwordFile = `${dataDir}-password`;
    const old = await start(dataDir);
    const client = await connect(old.url);
    await client.query('CREATE TABLE marker (note text)');
    await client.query("INSERT INTO marker VALUES ('kept')");
    // What `initdb --auth=trust` left: a superuser without a password, trust for everyone, no password file.
    await client.query('ALTER ROLE postgres PASSWORD NULL');
    await client.end();
    await old.stop();
    await writeFile(path.join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n');
    await rm(passwordFile);

    const log: string[] = [];
    const secured = await start(dataDir, log);
    expect(log.some((line) => line.includes('set a new superuser password'))).toBe(true);
    expect(passwordOf(secured.url)).not.toBe(passwordOf(old.url));
    expect((await readFile(passwordFile, 'utf8')).trim()).toBe(passwordOf(secured.url));
    expect(await fileMode(passwordFile)).toBe(0o600);
    expect((await refusal(secured.url, undefined))?.message).toMatch(/password/i);
    expect(await refusal(secured.url, '')).toBeDefined();
    expect(await query(secured.url, 'SELECT note FROM marker')).toEqual([{ note: 'kept' }]);
    await secured.stop();
  }, 120_000);

  it('says which file to delete when the cluster refuses the kept password, and sets a new one once it is gone', async () => {
    const dataDir = path.join(root, 'changed');
    const passwordFile = `${dataDir}-password`;
    const server = await start(dataDir);
    await query(server.url, "ALTER ROLE postgres PASSWORD 'changed-by-hand'");
    await server.stop();

    await expect(start(dataDir)).rejects.toThrow(`refused the password kept in ${passwordFile}: delete that file`);

    await rm(passwordFile);
    const reset = await start(dataDir);
    expect(await refusal(reset.url, passwordOf(reset.url))).toBeUndefined();
    expect(await refusal(reset.url, 'changed-by-hand')).toMatchObject({ code: '28P01' });
    await reset.stop();
  }, 120_000);
});
