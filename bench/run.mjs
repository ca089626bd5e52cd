// Benchmark suite for the auth service: `npm run bench` (= `npm run build && node bench/run.mjs`).
//
// One run measures every row of issue 9's table side by side with a bare Nest-on-Fastify app it starts
// itself (bench/bare-app.mjs), and with the refresh rotation done as one prepared statement through
// `pg` directly: throughput ratios from requests per second and from server CPU per request, latency
// under login load, idle memory, rows per session after rotations, memory over a soak of mixed load,
// and a CPU profile of the guarded route and of refresh. Also login, cross-instance revocation and
// WEB_CONCURRENCY=2. Progress goes to stderr; the Markdown report goes to stdout and (full-length runs,
// or BENCH_WRITE=1) into BENCHMARKS.md between its bench markers. Exits non-zero when anything failed
// (a start-up, an error response, a lost rotation, a revocation not seen within 1 s, an unclean exit),
// always after stopping everything it started. Missed targets are reported, not an exit code, unless
// BENCH_STRICT=1. See bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

const seconds = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return value;
};

const DEFAULTS = { duration: 10, login: 8, soak: 300, profile: 5 };
const CONFIG = {
  warmupS: 2,
  // The bare app and /health/live take turns: each gets durationS / turns per turn.
  turns: 5,
  durationS: seconds('BENCH_DURATION', DEFAULTS.duration), // each autocannon / rotation measurement
  loginS: seconds('BENCH_LOGIN_DURATION', DEFAULTS.login),
  soakS: seconds('BENCH_SOAK', DEFAULTS.soak),
  profile: process.env.BENCH_PROFILE !== '0',
  profileS: seconds('BENCH_PROFILE_DURATION', DEFAULTS.profile),
  startRssWaitMs: 2000, // after "ready": the footprint of start-up, its garbage in a grown new space included
  // After "ready", before the idle RSS is read: V8's memory reducer shrinks the heap once the process has
  // allocated little for two of its 8 s periods (about 17 s after start here).
  idleWaitMs: 30_000,
  connections: 32, // autocannon, every HTTP throughput row (the issue's table: 32 connections)
  rotationSessions: 32,
  pgClients: 32,
  loginConcurrency: 8,
  loginLoadClients: 16, // logging in nonstop beside the claims p99 row
  rowsRotations: 200,
  soakWorkers: 8,
  soakRounds: 5, // per soak cycle: login, 5 × (20 × claims, 1 × sessions list, refresh), logout
  soakReads: 20,
  revocationSessions: 20,
  revocationBoundMs: 1000, // the contract: revoked on every instance within one second
  revocationGiveUpMs: 5000,
  clusterWorkers: 2,
  skipCluster: process.env.BENCH_SKIP_CLUSTER === '1',
  strict: process.env.BENCH_STRICT === '1',
  write: process.env.BENCH_WRITE, // '1' always (or a file to write instead of BENCHMARKS.md), '0' never, unset: full-length runs only
  profileDir: process.env.BENCH_PROFILE_DIR, // keep the raw .cpuprofile files there
  algorithm: process.env.JWT_ALGORITHM ?? 'ES256',
};
// The soak's load runs this long before minute 1: the bounded caches (verified tokens, revoked
// sessions) fill in about a minute, and minute 1 is to be compared with minute 5 at the same fill.
CONFIG.soakWarmupS = Math.min(60, CONFIG.soakS / 5);
CONFIG.deadlineMs = seconds('BENCH_DEADLINE', CONFIG.soakWarmupS + CONFIG.soakS + 270) * 1000; // the whole run, start-ups included
CONFIG.fullLength =
  CONFIG.durationS === DEFAULTS.duration && CONFIG.loginS === DEFAULTS.login && CONFIG.soakS === DEFAULTS.soak && CONFIG.profileS === DEFAULTS.profile;

// Issue 9's targets. Throughput ratios hold when both readings (req/s and CPU per request) meet them.
const TARGETS = {
  liveVsBare: 0.8,
  claimsVsLive: 0.85,
  refreshVsPg: 0.4,
  claimsP99UnderLoginMs: 20,
  idleRssMb: 120,
  rowsPerSession: 1,
  soakGrowth: 0.1,
};

// The service's policy defaults (REFRESH_IDLE_TTL 7 d, REFRESH_REUSE_GRACE 10 s), for the pg reference.
const IDLE_TTL_S = 604800;
const REUSE_GRACE_S = 10;
const ROTATIONS_KEPT = 64;
// The reference: the service's rotation (ROTATE in src/auth/sessions/postgres-session-store.ts as of
// commit 5db51f7), kept here verbatim so that the reference does not move when the service's SQL does.
const PG_ROTATE = `
  WITH rotated AS (
    UPDATE auth_sessions s
    SET generation = s.generation + 1, last_used_at = c.now,
        rotations = (ARRAY[c.now] || ARRAY(
          SELECT r FROM unnest(s.rotations) WITH ORDINALITY AS kept(r, i) WHERE r > c.now - make_interval(secs => $4) ORDER BY i
        ))[1:${ROTATIONS_KEPT}]
    FROM (SELECT clock_timestamp() AS now) c
    WHERE s.id = $1 AND s.generation = $2 AND s.revoked_at IS NULL
      AND s.expires_at > c.now AND s.last_used_at > c.now - make_interval(secs => $3)
    RETURNING s.id, s.user_id, s.generation, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.ip
  )
  SELECT * FROM rotated`;
const PG_REFERENCE_USER = 'bench-pg-reference';
// Tables of the package that log history rather than hold state (rows of a session counted apart).
const AUDIT_TABLES = new Set(['auth_events']);

const startedAt = Date.now();
const log = (message) => process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hrUs = () => Number(process.hrtime.bigint() / 1000n); // the clock of V8's CPU profiles (CLOCK_MONOTONIC)

// ---------------------------------------------------------------------------------------------------
// Cleanup: every started thing registers how to stop it; run in reverse order, each step bounded.
// ---------------------------------------------------------------------------------------------------
const cleanups = [];
const onCleanup = (name, fn) => cleanups.push({ name, fn });
async function runCleanups() {
  while (cleanups.length) {
    const { name, fn } = cleanups.pop();
    try {
      await Promise.race([fn(), sleep(25_000).then(() => Promise.reject(new Error('timed out')))]);
    } catch (error) {
      log(`cleanup "${name}" failed: ${error?.message ?? error}`);
    }
  }
}

// Failures of checks (the run goes on so the table is complete; the exit code reports them).
const problems = [];
let stopped = false; // set on an abort: what the abandoned run does afterwards is not reported
const problem = (message) => {
  if (stopped) return;
  problems.push(message);
  log(`PROBLEM: ${message}`);
};

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/**
 * A JSON HTTP client on `connections` keep-alive connections, through undici (about a fifth less CPU
 * per request than node:http's client: the load generator shares the 2 cores with what it measures).
 */
function httpClient(port, connections) {
  const pool = new Pool(`http://${HOST}:${port}`, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const request = async (method, urlPath, { body, token } = {}) => {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await pool.request({ method, path: urlPath, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.body.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, json, text };
  };
  request.close = () => pool.destroy();
  return request;
}

async function expectStatus(promise, status, what) {
  const response = await promise;
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text.slice(0, 300)}`);
  }
  return response;
}

/** Keeps the first few messages of a kind and counts the rest. */
function failureLog(limit = 20) {
  const list = [];
  list.total = 0;
  list.add = (message) => {
    list.total += 1;
    if (list.length < limit) list.push(message);
  };
  return list;
}

// ---------------------------------------------------------------------------------------------------
// /proc: memory of a process tree, CPU of our parts, and CPU used by processes outside our tree
// ---------------------------------------------------------------------------------------------------
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid = field 4, utime = 14, stime = 15, cutime = 16, cstime = 17 (the
    // children it reaped: a PostgreSQL backend that ended, a cluster worker, a stopped service).
    return { comm, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

function allProcesses() {
  const result = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) result.set(Number(entry), stat);
  }
  return result;
}

function descendants(rootPid, processes = allProcesses()) {
  const tree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of processes) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

function rssKb(pid) {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** RSS of a server process; with node:cluster, the primary plus its workers. */
function serviceRssMb(service) {
  const tree = descendants(service.child.pid);
  let total = 0;
  for (const pid of tree) total += rssKb(pid);
  return { totalMb: total / 1024, processes: tree.size, mainMb: rssKb(service.child.pid) / 1024 };
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep 100
}

/** Machine-wide busy CPU, and the CPU of our groups: the server under test (its process tree), the embedded PostgreSQL (its tree) and this process (the load generator). */
function cpuSnapshot(service) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = line;
  const processes = allProcesses();
  const treeTicks = (root) => {
    let ticks = 0;
    // Live processes, plus what their ended children used: a tree's count never goes down.
    for (const pid of descendants(root, processes)) ticks += (processes.get(pid)?.cpuTicks ?? 0) + (processes.get(pid)?.childTicks ?? 0);
    return ticks;
  };
  const postgres = [...processes].find(([, stat]) => stat.ppid === process.pid && stat.comm === 'postgres')?.[0];
  return {
    at: performance.now(),
    busy: user + nice + system + irq + softirq + (steal ?? 0),
    ours: treeTicks(process.pid),
    service: service ? treeTicks(service.child.pid) : 0,
    postgres: postgres ? treeTicks(postgres) : NaN,
    bench: processes.get(process.pid)?.cpuTicks ?? 0,
  };
}

/**
 * CPU during the interval. Cores: `other` by processes outside this benchmark and its children (a
 * disturbance indicator), `service`, `postgres` (NaN when external) and `bench` (the load generator).
 * `seconds`: the same as CPU seconds, for per-request figures.
 */
function cpuSplit(before, after) {
  const wall = (after.at - before.at) / 1000;
  const cpuS = (ticks) => ticks / clockTicks;
  const seconds = {
    service: cpuS(after.service - before.service),
    postgres: cpuS(after.postgres - before.postgres),
    bench: cpuS(after.bench - before.bench),
  };
  return withCores({ wall, seconds, other: cpuS(Math.max(0, after.busy - before.busy - (after.ours - before.ours))) / wall });
}

/** The split's CPU seconds of each part as cores over its wall time. */
function withCores(split) {
  const { wall, seconds } = split;
  return { ...split, service: seconds.service / wall, postgres: seconds.postgres / wall, bench: seconds.bench / wall };
}

/** CPU µs per operation of each part. */
const perOpUs = (cpu, count) => ({
  service: (cpu.seconds.service * 1e6) / count,
  postgres: (cpu.seconds.postgres * 1e6) / count,
  bench: (cpu.seconds.bench * 1e6) / count,
});

// ---------------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------------
async function prepareDatabase(workDir, appDir) {
  const { migrateDatabase } = await import(pathToFileURL(path.join(appDir, 'dist/src/database/migrate.js')).href);
  if (process.env.BENCH_DATABASE_URL) {
    const url = process.env.BENCH_DATABASE_URL;
    log(`using BENCH_DATABASE_URL (${url.replace(/\/\/[^@/]*@/, '//…@')}); migrating`);
    await migrateDatabase(url);
    return { url, description: 'BENCH_DATABASE_URL', embedded: false };
  }
  const { startEmbeddedPostgres } = await import(pathToFileURL(path.join(appDir, 'dist/src/database/embedded-postgres.js')).href);
  log('starting a throw-away embedded PostgreSQL');
  const server = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port: 0, database: 'auth_bench', durable: false });
  onCleanup('embedded PostgreSQL', () => server.stop());
  log(`embedded PostgreSQL at ${server.url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}; migrating`);
  await migrateDatabase(server.url);
  return { url: server.url, description: 'throw-away embedded PostgreSQL (fsync off)', embedded: true };
}

async function withPg(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function serverVersion(url) {
  try {
    return await withPg(url, async (client) => (await client.query('SHOW server_version')).rows[0].server_version);
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// Server processes: the service (dist/main.js) and the bare Nest app (bench/bare-app.mjs)
// ---------------------------------------------------------------------------------------------------
const LOG_TAIL = 40;
// From the caller's shell nothing may change what is measured except the documented variables.
const DROPPED_ENV = [
  'NODE_ENV',
  'WEB_CONCURRENCY',
  'DB_MIGRATE_ON_START',
  'NODE_OPTIONS',
  'DATABASE_URL',
  'PORT',
  'HOST',
  'REFRESH_TOKEN_SECRET',
  'JWT_PRIVATE_KEYS',
  'JWT_SECRET',
  'REDIS_URL',
  'HTTP_ADAPTER',
];

/** Production secrets given to every instance: a fresh key of JWT_ALGORITHM and refresh secret. */
function productionSecrets(algorithm) {
  const secrets = { REFRESH_TOKEN_SECRET: randomBytes(32).toString('base64url') };
  if (algorithm === 'HS256') {
    secrets.JWT_SECRET = randomBytes(32).toString('base64url');
  } else {
    const { privateKey } =
      algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `bench-${randomBytes(4).toString('hex')}`, alg: algorithm, use: 'sig' };
    secrets.JWT_PRIVATE_KEYS = JSON.stringify({ keys: [jwk] });
  }
  return secrets;
}

async function startProcess(name, { cwd, args, env: extraEnv, readyPath, listeners = 1, description = '' }) {
  const port = await freePort();
  const env = { ...process.env };
  for (const key of DROPPED_ENV) delete env[key];
  Object.assign(env, { PORT: String(port), HOST, ...extraEnv });
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { name, port, child, tail: [], listening: 0, warnings: 0, startMs: NaN };
  server.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (error) => server.tail.push(`spawn error: ${error.message}`));
  const onLine = (line) => {
    if (line.startsWith(QUERY_COUNTS)) {
      try {
        server.onQueryCounts?.(JSON.parse(line.slice(QUERY_COUNTS.length)));
      } catch {
        // not ours after all
      }
      return;
    }
    server.tail.push(line);
    if (server.tail.length > LOG_TAIL) server.tail.shift();
    if (line.includes('listening on http')) server.listening += 1;
    // pino levels: 40 warn, 50 error, 60 fatal
    if (/"level":(4|5|6)0/.test(line)) server.warnings += 1;
  };
  // Whole lines only: a chunk may end in the middle of one.
  const lines = () => {
    let rest = '';
    return (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      for (const line of parts) if (line.trim()) onLine(line);
    };
  };
  child.stdout.setEncoding('utf8').on('data', lines());
  child.stderr.setEncoding('utf8').on('data', lines());
  onCleanup(name, () => stopService(server, { quiet: true }));
  log(`starting ${name} on port ${port}${description}`);

  const client = httpClient(port, 1);
  const deadline = performance.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited during start-up (${child.signalCode ?? child.exitCode}). Last output:\n${server.tail.join('\n')}`);
      }
      if (performance.now() > deadline) throw new Error(`${name} was not ready within 30 s. Last output:\n${server.tail.join('\n')}`);
      const health = await client('GET', readyPath).catch(() => undefined);
      if (health?.status === 200 && server.listening >= listeners) break;
      await sleep(50);
    }
  } finally {
    client.close();
  }
  server.startMs = performance.now() - started;
  log(`${name} ready in ${(server.startMs / 1000).toFixed(2)} s (pid ${child.pid})`);
  return server;
}

/** The service in production mode, from the private copy of dist/. */
function startService(name, { appDir, dataDir, databaseUrl, secrets, extraEnv = {}, nodeArgs = [], listeners = 1 }) {
  return startProcess(name, {
    cwd: appDir,
    args: [...nodeArgs, 'dist/main.js'],
    env: { NODE_ENV: 'production', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', RATE_LIMIT: 'off', DATA_DIR: dataDir, ...secrets, ...extraEnv },
    readyPath: '/health',
    listeners,
    description: extraEnv.WEB_CONCURRENCY ? ` (WEB_CONCURRENCY=${extraEnv.WEB_CONCURRENCY})` : nodeArgs.length ? ` (${nodeArgs.join(' ')})` : '',
  });
}

function startBare() {
  return startProcess('bare Nest app', {
    cwd: ROOT,
    args: [path.join(ROOT, 'bench/bare-app.mjs')],
    env: { NODE_ENV: 'production' },
    readyPath: '/hello',
  });
}

const QUERY_COUNTS = 'bench-query-counts ';

/** The running query counts of an instance started with bench/query-counter.mjs (undefined without). */
function queryCounts(server) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.onQueryCounts = undefined;
      resolve(undefined);
    }, 3000);
    server.onQueryCounts = (counts) => {
      clearTimeout(timer);
      server.onQueryCounts = undefined;
      resolve(counts);
    };
    server.child.kill('SIGUSR2');
  });
}

/** Queries per request in a window, in total and by statement (most frequent first). */
function queriesBetween(before, after, requests) {
  if (!before || !after || !requests) return undefined;
  const statements = Object.entries(after)
    .map(([text, n]) => ({ text, perRequest: (n - (before[text] ?? 0)) / requests }))
    .filter((statement) => statement.perRequest > 0)
    .sort((a, b) => b.perRequest - a.perRequest);
  return { perRequest: statements.reduce((sum, statement) => sum + statement.perRequest, 0), statements };
}

/** SIGTERM, then wait (bounded) for the exit; returns true for a clean exit 0. */
async function stopService(service, { quiet = false } = {}) {
  const { child } = service;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const outcome = await Promise.race([service.exited, sleep(15_000).then(() => undefined)]);
  if (!outcome) {
    child.kill('SIGKILL');
    await Promise.race([service.exited, sleep(5_000)]);
    if (!quiet) problem(`${service.name} did not exit within 15 s of SIGTERM (killed)`);
    return false;
  }
  if (outcome.code !== 0) {
    if (!quiet) problem(`${service.name} exited with ${outcome.signal ?? `code ${outcome.code}`} after SIGTERM. Last output:\n${service.tail.join('\n')}`);
    return false;
  }
  if (!quiet) log(`${service.name} stopped cleanly (exit 0)`);
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------
const runCannon = (options, durationS) => autocannon({ ...options, duration: durationS });

const cannonOptions = (service, { path: urlPath, method = 'GET', headers, body, connections = CONFIG.connections }) => ({
  url: `http://${HOST}:${service.port}${urlPath}`,
  method,
  headers,
  body,
  connections,
  pipelining: 1,
  timeout: 10,
});

function cannonRow(label, result, cpu, connections) {
  const row = {
    label,
    rate: result.requests.total / result.duration,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    connections,
    durationS: result.duration,
    cpu,
    perOp: perOpUs(cpu, result.requests.total),
  };
  log(`${label}: ${int(row.rate)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}, non-2xx ${row.non2xx}, ${us(row.perOp.service)} service CPU per request, CPU ${cpuText(row.cpu)}`);
  if (row.errors || row.timeouts || row.non2xx) {
    problem(`${label}: ${row.errors} errors, ${row.timeouts} timeouts, ${row.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)})`);
  }
  if (!row.total) problem(`${label}: no request completed`);
  return row;
}

/** Warm-up, then a measured autocannon run. */
async function cannonScenario(label, service, request) {
  const options = cannonOptions(service, request);
  const durationS = request.durationS ?? CONFIG.durationS;
  log(`${label}: warm-up ${CONFIG.warmupS} s, then ${durationS} s with ${options.connections} connections`);
  await runCannon(options, CONFIG.warmupS);
  const before = cpuSnapshot(service);
  const result = await runCannon(options, durationS);
  return cannonRow(label, result, cpuSplit(before, cpuSnapshot(service)), options.connections);
}

/**
 * Rows measured in turns: one warm-up each, then CONFIG.turns rounds in which every scenario runs
 * durationS / turns. This VM's speed drifts (by as much as 2× within an afternoon, with nothing else
 * running); taking turns gives every row the same mix of fast and slow minutes, so the ratios between
 * them compare like with like. Requests and CPU are summed over the turns; p50 and p99 are the worst
 * turn's. Only for scenarios on different processes: two routes of one process taking turns would
 * each run on code the other keeps re-optimising (seen: /auth/claims per turn 39–73 µs).
 */
async function cannonScenariosInTurns(scenarios) {
  const turnS = CONFIG.durationS / CONFIG.turns;
  const measured = scenarios.map(() => []);
  for (const { label, service, request } of scenarios) {
    log(`${label}: warm-up ${CONFIG.warmupS} s`);
    await runCannon(cannonOptions(service, request), CONFIG.warmupS);
  }
  log(`${scenarios.map(({ label }) => label).join(', ')}: ${CONFIG.turns} turns of ${+turnS.toFixed(2)} s each`);
  for (let turn = 0; turn < CONFIG.turns; turn++) {
    for (const [index, { service, request }] of scenarios.entries()) {
      const before = cpuSnapshot(service);
      const result = await runCannon(cannonOptions(service, request), turnS);
      measured[index].push({ result, cpu: cpuSplit(before, cpuSnapshot(service)) });
    }
  }
  return scenarios.map(({ label, service, request }, index) => {
    const turns = measured[index];
    const row = cannonRow(label, pooledResult(turns.map(({ result }) => result)), pooledCpu(turns.map(({ cpu }) => cpu)), cannonOptions(service, request).connections);
    // The spread between turns shows how far the machine moved while the rows ran.
    row.perTurnUs = turns.map(({ result, cpu }) => perOpUs(cpu, result.requests.total).service);
    log(`${label}: CPU per request by turn ${row.perTurnUs.map(us).join(', ')}`);
    return row;
  });
}

/** Several autocannon results as one: counts summed, p50 and p99 the worst. */
function pooledResult(results) {
  const sum = (pick) => results.reduce((total, result) => total + pick(result), 0);
  return {
    requests: { total: sum((result) => result.requests.total) },
    duration: sum((result) => result.duration),
    latency: { p50: Math.max(...results.map((result) => result.latency.p50)), p99: Math.max(...results.map((result) => result.latency.p99)) },
    errors: sum((result) => result.errors),
    timeouts: sum((result) => result.timeouts),
    non2xx: sum((result) => result.non2xx),
    statusCodeStats: results.map((result) => result.statusCodeStats),
  };
}

/** Several CPU splits (cpuSplit) as one over their summed wall time. */
function pooledCpu(splits) {
  const wall = splits.reduce((total, split) => total + split.wall, 0);
  const seconds = (part) => splits.reduce((total, split) => total + split.seconds[part], 0);
  const other = splits.reduce((total, split) => total + split.other * split.wall, 0) / wall;
  return withCores({ wall, seconds: { service: seconds('service'), postgres: seconds('postgres'), bench: seconds('bench') }, other });
}

async function register(client, user) {
  await expectStatus(client('POST', '/auth/register', { body: { email: user.email, password: user.password, displayName: 'Bench' } }), 201, `register ${user.email}`);
  return user;
}

async function login(client, email, password) {
  const response = await expectStatus(client('POST', '/auth/login', { body: { email, password } }), 200, 'login');
  const { accessToken, refreshToken, sessionId } = response.json ?? {};
  if (typeof accessToken !== 'string' || typeof refreshToken !== 'string') throw new Error(`login: no token pair in ${response.text.slice(0, 200)}`);
  return { accessToken, refreshToken, sessionId };
}

/**
 * One client per user, each logging in nonstop (one user each: a user's logins take turns on its lock).
 * A 503 or 429 counts as shed; the client then waits its Retry-After (at most 1 s) before the next.
 */
async function loginLoad(port, users, durationS) {
  const client = httpClient(port, users.length);
  const latencies = [];
  const failures = failureLog();
  let shed = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  try {
    await Promise.all(
      users.map(async (user) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          let response;
          try {
            response = await client('POST', '/auth/login', { body: { email: user.email, password: user.password } });
          } catch (error) {
            failures.add(error.message);
            await sleep(100);
            continue;
          }
          if (response.status === 200) {
            latencies.push(performance.now() - t0);
          } else if (response.status === 503 || response.status === 429) {
            shed += 1;
            const retryAfter = Number(response.headers['retry-after']);
            await sleep(Math.min(1000, Number.isFinite(retryAfter) ? retryAfter * 1000 : 100, Math.max(0, deadline - performance.now())));
          } else {
            failures.add(`${response.status} ${response.json?.code ?? response.text.slice(0, 120)}`);
            await sleep(50);
          }
        }
      }),
    );
  } finally {
    client.close();
  }
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, rate: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), shed, failures, elapsedS, clients: users.length };
}

async function loginScenario(service, users) {
  const label = 'POST /auth/login (argon2id)';
  log(`${label}: warm-up ${CONFIG.warmupS} s, then ${CONFIG.loginS} s with ${users.length} clients, one user each`);
  await loginLoad(service.port, users, CONFIG.warmupS);
  const before = cpuSnapshot(service);
  const result = await loginLoad(service.port, users, CONFIG.loginS);
  const cpu = cpuSplit(before, cpuSnapshot(service));
  const row = { label, ...result, cpu, perOp: perOpUs(cpu, result.count) };
  log(`${label}: ${int(row.rate)} logins/s, p50 ${ms(row.p50)}, p99 ${ms(row.p99)}, ${row.shed} shed, ${row.failures.total} failed, CPU ${cpuText(cpu)}`);
  if (row.failures.total) problem(`${label}: ${row.failures.total} failures: ${row.failures.slice(0, 5).join('; ')}`);
  if (!row.count) problem(`${label}: no login succeeded`);
  return row;
}

/** /auth/claims through autocannon while other clients log in nonstop: the guarded route's tail latency. */
async function claimsUnderLoginScenario(service, token, users) {
  const label = `GET /auth/claims while ${users.length} clients log in`;
  const options = cannonOptions(service, { path: '/auth/claims', headers: { authorization: `Bearer ${token}` } });
  log(`${label}: warm-up ${CONFIG.warmupS} s, then ${CONFIG.durationS} s`);
  await Promise.all([runCannon(options, CONFIG.warmupS), loginLoad(service.port, users, CONFIG.warmupS)]);
  const before = cpuSnapshot(service);
  const [result, logins] = await Promise.all([runCannon(options, CONFIG.durationS), loginLoad(service.port, users, CONFIG.durationS)]);
  const row = cannonRow(label, result, cpuSplit(before, cpuSnapshot(service)), options.connections);
  row.perOp = { service: NaN, postgres: NaN, bench: NaN }; // the logins' CPU is in it too
  row.logins = logins;
  log(`${label}: logins meanwhile ${int(logins.rate)}/s (p99 ${ms(logins.p99)}), ${logins.shed} shed, ${logins.failures.total} failed`);
  if (logins.failures.total) problem(`${label}: ${logins.failures.total} login failures: ${logins.failures.slice(0, 5).join('; ')}`);
  return row;
}

/** Each worker owns one session and rotates its own latest refresh token as fast as it can. */
async function rotationLoop(client, tokens, durationS) {
  const latencies = [];
  const failures = [];
  let notRotated = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    tokens.map(async (_, index) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        let response;
        try {
          response = await client('POST', '/auth/refresh', { body: { refreshToken: tokens[index] } });
        } catch (error) {
          failures.push(`session ${index}: ${error.message}`);
          return;
        }
        const elapsed = performance.now() - t0;
        const next = response.json?.refreshToken;
        if (response.status !== 200 || typeof next !== 'string') {
          // The family is probably dead (a reuse or a lost rotation): this worker stops.
          failures.push(`session ${index}: ${response.status} ${response.json?.code ?? response.text.slice(0, 120)}`);
          return;
        }
        if (next === tokens[index]) notRotated += 1;
        tokens[index] = next;
        latencies.push(elapsed);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, rate: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, notRotated, elapsedS };
}

async function loginSessions(client, user, count) {
  const tokens = [];
  for (let index = 0; index < count; index++) tokens.push((await login(client, user.email, user.password)).refreshToken);
  return tokens;
}

async function rotationScenario(service, user) {
  const sessions = CONFIG.rotationSessions;
  const client = httpClient(service.port, sessions);
  try {
    log(`rotation: logging in ${sessions} sessions`);
    const tokens = await loginSessions(client, user, sessions);
    log(`rotation: warm-up ${CONFIG.warmupS} s, then ${CONFIG.durationS} s with ${sessions} concurrent sessions`);
    const warm = await rotationLoop(client, tokens, CONFIG.warmupS);
    const before = cpuSnapshot(service);
    const measured = warm.failures.length ? { count: 0, rate: 0, p50: NaN, p99: NaN, failures: [], notRotated: 0, elapsedS: 0 } : await rotationLoop(client, tokens, CONFIG.durationS);
    const cpu = cpuSplit(before, cpuSnapshot(service));
    const failures = [...warm.failures, ...measured.failures];
    const notRotated = warm.notRotated + measured.notRotated;
    const row = { label: 'POST /auth/refresh rotation', ...measured, failures, notRotated, sessions, cpu, perOp: perOpUs(cpu, measured.count) };
    log(`rotation: ${int(row.rate)} rotations/s, p50 ${ms(row.p50)}, p99 ${ms(row.p99)}, ${failures.length} failures, CPU per rotation ${us(row.perOp.service)} service + ${us(row.perOp.postgres)} pg, CPU ${cpuText(row.cpu)}`);
    if (failures.length) problem(`rotation: ${failures.length} failures: ${failures.slice(0, 5).join('; ')}`);
    if (notRotated) problem(`rotation: ${notRotated} refreshes returned the presented token instead of a new one`);
    // Every family must still be alive with exactly the token its worker holds.
    let alive = 0;
    for (const token of tokens) if ((await client('POST', '/auth/refresh', { body: { refreshToken: token } })).status === 200) alive += 1;
    if (!failures.length && alive !== sessions) problem(`rotation: only ${alive}/${sessions} sessions still refresh after the run`);
    row.alive = alive;
    return row;
  } finally {
    client.close();
  }
}

/**
 * The reference for refresh: the same rotation as one prepared statement (by name) through `pg`, 32
 * clients on their own connections, each rotating its own family row, on the same database.
 */
async function pgReferenceScenario(databaseUrl) {
  const label = 'pg reference: the rotation as one prepared statement';
  const count = CONFIG.pgClients;
  const clients = [];
  try {
    const ids = await withPg(databaseUrl, async (admin) => {
      await admin.query('DELETE FROM auth_sessions WHERE user_id = $1', [PG_REFERENCE_USER]);
      const { rows } = await admin.query(
        `INSERT INTO auth_sessions (id, user_id, generation, created_at, last_used_at, expires_at)
         SELECT gen_random_uuid(), $1, 0, now(), now(), now() + interval '30 days' FROM generate_series(1, $2) RETURNING id`,
        [PG_REFERENCE_USER, count],
      );
      return rows.map((row) => row.id);
    });
    for (let index = 0; index < count; index++) {
      const client = new pg.Client({ connectionString: databaseUrl });
      clients.push(client);
      await client.connect();
    }
    const generations = ids.map(() => 0);
    const loop = async (durationS) => {
      const latencies = [];
      const failures = [];
      const started = performance.now();
      const deadline = started + durationS * 1000;
      await Promise.all(
        clients.map(async (client, index) => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            const { rows } = await client.query({ name: 'bench-rotate', text: PG_ROTATE, values: [ids[index], generations[index], IDLE_TTL_S, REUSE_GRACE_S] });
            if (rows.length !== 1 || rows[0].generation !== generations[index] + 1) {
              failures.push(`family ${index}: ${rows.length} rows at generation ${generations[index]}`);
              return;
            }
            generations[index] += 1;
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const elapsedS = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      return { count: latencies.length, rate: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures, elapsedS };
    };
    log(`${label}: warm-up ${CONFIG.warmupS} s, then ${CONFIG.durationS} s with ${count} clients`);
    const warm = await loop(CONFIG.warmupS);
    const before = cpuSnapshot(undefined);
    const measured = await loop(CONFIG.durationS);
    const cpu = cpuSplit(before, cpuSnapshot(undefined));
    const failures = [...warm.failures, ...measured.failures];
    const row = { label, ...measured, failures, clients: count, cpu, perOp: perOpUs(cpu, measured.count) };
    log(`${label}: ${int(row.rate)} rotations/s, p50 ${ms(row.p50)}, p99 ${ms(row.p99)}, CPU per rotation ${us(row.perOp.postgres)} pg + ${us(row.perOp.bench)} pg client, CPU ${cpuText(cpu)}`);
    if (failures.length) problem(`${label}: ${failures.length} failures: ${failures.slice(0, 5).join('; ')}`);
    return row;
  } catch (error) {
    problem(`${label} failed: ${error.message}`);
    return undefined;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
    await withPg(databaseUrl, (admin) => admin.query('DELETE FROM auth_sessions WHERE user_id = $1', [PG_REFERENCE_USER])).catch(() => {});
  }
}

/**
 * The rows one session holds in the package's tables (auth_*) before and after 200 rotations done one
 * after the other, and the row's size; also every auth_* table's row count, which must not grow.
 */
async function rowsScenario(service, user, databaseUrl) {
  const rotations = CONFIG.rowsRotations;
  const client = httpClient(service.port, 1);
  try {
    const { refreshToken, sessionId } = await login(client, user.email, user.password);
    if (typeof sessionId !== 'string') throw new Error('login answered no sessionId');
    return await withPg(databaseUrl, async (db) => {
      const { rows: tables } = await db.query(
        `SELECT t.table_name, bool_or(c.column_name = 'session_id') AS has_session_id
           FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
          WHERE t.table_schema = current_schema() AND t.table_name LIKE 'auth\\_%' AND t.table_type = 'BASE TABLE'
          GROUP BY t.table_name ORDER BY t.table_name`,
      );
      const count = async () => {
        await sleep(500); // the audit writer flushes about every 100 ms
        const result = { perTable: {}, totals: {}, sessionRows: 0, bytes: NaN };
        for (const { table_name: table, has_session_id: hasSessionId } of tables) {
          const ident = `"${table.replaceAll('"', '""')}"`;
          result.totals[table] = Number((await db.query(`SELECT count(*) AS n FROM ${ident}`)).rows[0].n);
          if (table === 'auth_sessions') {
            const { rows } = await db.query(`SELECT pg_column_size(s.*) AS bytes FROM auth_sessions s WHERE id = $1`, [sessionId]);
            result.perTable[table] = rows.length;
            result.sessionRows = rows.length;
            result.bytes = rows.reduce((sum, row) => sum + Number(row.bytes), 0);
          } else if (hasSessionId) {
            result.perTable[table] = Number((await db.query(`SELECT count(*) AS n FROM ${ident} WHERE session_id = $1`, [sessionId])).rows[0].n);
          }
        }
        // The audit log is history, not session state: shown apart, but it must not grow with rotations either.
        result.held = Object.entries(result.perTable).reduce((sum, [table, n]) => sum + (AUDIT_TABLES.has(table) ? 0 : n), 0);
        result.audit = Object.entries(result.perTable).reduce((sum, [table, n]) => sum + (AUDIT_TABLES.has(table) ? n : 0), 0);
        return result;
      };
      const before = await count();
      log(`rows: ${rotations} rotations of one session, one after the other`);
      let token = refreshToken;
      for (let index = 0; index < rotations; index++) {
        const response = await expectStatus(client('POST', '/auth/refresh', { body: { refreshToken: token } }), 200, `rotation ${index + 1} of ${rotations}`);
        token = response.json.refreshToken;
      }
      const after = await count();
      const growth = Object.fromEntries(Object.keys(after.totals).map((table) => [table, after.totals[table] - (before.totals[table] ?? 0)]));
      const row = { rotations, before, after, growth, grew: Object.values(growth).some((n) => n > 0) || after.held > before.held || after.audit > before.audit };
      log(`rows: the session holds ${after.held} rows after ${rotations} rotations (${before.held} before; ${JSON.stringify(after.perTable)}, audit events apart), its auth_sessions row ${after.bytes} bytes; table growth ${JSON.stringify(growth)}`);
      return row;
    });
  } catch (error) {
    problem(`rows after rotations failed: ${error.message}`);
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * Mixed load for BENCH_SOAK seconds on a service that already ran every row: workers (one user each)
 * loop login → 5 × (20 × GET /auth/claims, GET /auth/sessions, refresh) → logout → claims with the
 * old token (must be 401). RSS of the service sampled every 10 s.
 */
async function soakScenario(service, users, soakS) {
  const label = 'Soak: mixed load';
  const client = httpClient(service.port, users.length);
  const failures = failureLog();
  const expect = (response, status, what) => {
    if (response.status === status) return true;
    failures.add(`${what}: ${response.status} ${response.json?.code ?? response.text.slice(0, 120)}`);
    return false;
  };
  const newCounts = () => ({ logins: 0, refreshes: 0, reads: 0, lists: 0, logouts: 0, revokedChecks: 0 });
  // Every worker loops until `deadline`, counting what it did in `counts`.
  const mixedLoad = (deadline, counts) =>
    Promise.all(
      users.map(async (user) => {
        const live = () => performance.now() < deadline;
        while (live()) {
          try {
            const loggedIn = await client('POST', '/auth/login', { body: { email: user.email, password: user.password } });
            if (!expect(loggedIn, 200, 'login')) {
              await sleep(loggedIn.status === 503 ? 200 : 50);
              continue;
            }
            counts.logins += 1;
            let { accessToken, refreshToken } = loggedIn.json;
            for (let round = 0; round < CONFIG.soakRounds && live(); round++) {
              for (let read = 0; read < CONFIG.soakReads && live(); read++) {
                if (expect(await client('GET', '/auth/claims', { token: accessToken }), 200, 'claims')) counts.reads += 1;
              }
              if (expect(await client('GET', '/auth/sessions', { token: accessToken }), 200, 'sessions list')) counts.lists += 1;
              const refreshed = await client('POST', '/auth/refresh', { body: { refreshToken } });
              if (!expect(refreshed, 200, 'refresh')) break;
              counts.refreshes += 1;
              ({ accessToken, refreshToken } = refreshed.json);
            }
            if (expect(await client('POST', '/auth/logout', { token: accessToken, body: {} }), 204, 'logout')) {
              counts.logouts += 1;
              if (expect(await client('GET', '/auth/claims', { token: accessToken }), 401, 'claims after logout')) counts.revokedChecks += 1;
            }
          } catch (error) {
            failures.add(error.message);
            await sleep(100);
          }
        }
      }),
    );
  // Each worker catches its own failures, so the warm-up cannot throw past here.
  const warmupS = CONFIG.soakWarmupS;
  const warmedFrom = serviceRssMb(service).mainMb;
  log(`${label}: warm-up ${warmupS} s of the same load, then ${soakS} s, ${users.length} workers`);
  const warmCounts = newCounts();
  await mixedLoad(performance.now() + warmupS * 1000, warmCounts);
  const counts = newCounts();
  const samples = [{ t: 0, rss: serviceRssMb(service).mainMb }];
  const started = performance.now();
  const sampleEveryS = 10;
  let ticks = 0;
  const sampler = setInterval(() => {
    ticks += 1;
    const t = ticks * sampleEveryS;
    const rss = serviceRssMb(service).mainMb;
    samples.push({ t, rss });
    log(`soak: ${t} s, RSS ${mb(rss)}; ${counts.logins} logins, ${counts.refreshes} refreshes, ${counts.reads} reads, ${counts.logouts} logouts so far`);
  }, sampleEveryS * 1000);
  const before = cpuSnapshot(service);
  try {
    await mixedLoad(started + soakS * 1000, counts);
  } finally {
    clearInterval(sampler);
    client.close();
  }
  const cpu = cpuSplit(before, cpuSnapshot(service));
  const elapsedS = (performance.now() - started) / 1000;
  // The end: replaces a sample taken at the same second.
  const last = { t: Math.round(elapsedS), rss: serviceRssMb(service).mainMb };
  if (samples.at(-1).t === last.t) samples.pop();
  samples.push(last);
  // RSS moves with every GC, so a minute is the mean of its 10 s samples: minute 1 (10–60 s) against
  // the last minute (minute 5 by default). A soak under 2 minutes compares its first sample with the end.
  const mean = (list) => list.reduce((sum, sample) => sum + sample.rss, 0) / list.length;
  const window = (what, list) => ({ what, rss: mean(list), max: Math.max(...list.map((sample) => sample.rss)), samples: list.length });
  const [baseline, final] =
    soakS >= 120
      ? [window('minute 1', samples.filter((sample) => sample.t > 0 && sample.t <= 60)), window(soakS % 60 === 0 ? `minute ${soakS / 60}` : 'the last 60 s', samples.filter((sample) => sample.t > Math.max(60, soakS - 60)))]
      : [window(`the first sample (${samples[1]?.t ?? 0} s)`, [samples[1] ?? samples[0]]), window(`the end (${last.t} s)`, [last])];
  // Mean RSS per minute, for the report.
  const perMinute = [];
  const minuteOf = (sample) => Math.min(Math.ceil(sample.t / 60), Math.ceil(soakS / 60)); // the end's few extra seconds count in the last
  for (let minute = 1; minute <= Math.ceil(soakS / 60); minute++) {
    const list = samples.filter((sample) => sample.t > 0 && minuteOf(sample) === minute);
    if (list.length) perMinute.push({ minute, ...window(`minute ${minute}`, list) });
  }
  const requests = counts.logins + counts.refreshes + counts.reads + counts.lists + counts.logouts + counts.revokedChecks;
  const warmup = { seconds: warmupS, rssBefore: warmedFrom, rssAfter: samples[0].rss, counts: warmCounts };
  const row = { label, soakS, elapsedS, warmup, workers: users.length, counts, requests, rate: requests / elapsedS, failures, samples, perMinute, baseline, final, last, growth: final.rss / baseline.rss - 1, cpu };
  log(`${label}: RSS ${baseline.what} ${mb(baseline.rss)} → ${final.what} ${mb(final.rss)} (${pct(row.growth)}); ${int(row.rate)} req/s; ${failures.total} failures; CPU ${cpuText(cpu)}`);
  if (failures.total) problem(`${label}: ${failures.total} failures: ${failures.slice(0, 5).join('; ')}`);
  return row;
}

async function revocationScenario(first, second, user) {
  const one = httpClient(first.port, 1);
  const two = httpClient(second.port, 1);
  const latencies = [];
  let firstPollHits = 0;
  let totalPolls = 0;
  try {
    log(`revocation: ${CONFIG.revocationSessions} sessions (login + logout on ${first.name}, poll ${second.name})`);
    for (let index = 0; index < CONFIG.revocationSessions; index++) {
      const { accessToken } = await login(one, user.email, user.password);
      await expectStatus(two('GET', '/auth/claims', { token: accessToken }), 200, `claims on ${second.name} before logout`);
      await expectStatus(one('POST', '/auth/logout', { token: accessToken, body: {} }), 204, 'logout');
      const loggedOut = performance.now();
      let polls = 0;
      for (;;) {
        const response = await two('GET', '/auth/claims', { token: accessToken });
        polls += 1;
        const now = performance.now();
        if (response.status === 401) {
          if (response.json?.code !== 'session_revoked') problem(`revocation: 401 with code ${response.json?.code}, expected session_revoked`);
          latencies.push(now - loggedOut);
          break;
        }
        if (response.status !== 200) throw new Error(`revocation: claims on ${second.name} answered ${response.status} ${response.text.slice(0, 200)}`);
        if (now - loggedOut > CONFIG.revocationGiveUpMs) {
          problem(`revocation: session ${index} still accepted by ${second.name} ${CONFIG.revocationGiveUpMs} ms after logout`);
          latencies.push(Infinity);
          break;
        }
      }
      totalPolls += polls;
      if (polls === 1) firstPollHits += 1;
      // The instance that revoked must refuse at once, too.
      const local = await one('GET', '/auth/claims', { token: accessToken });
      if (local.status !== 401) problem(`revocation: ${first.name} still accepts the access token right after its own logout (${local.status})`);
    }
  } finally {
    one.close();
    two.close();
  }
  latencies.sort((a, b) => a - b);
  const row = {
    label: 'Cross-instance revocation',
    sessions: CONFIG.revocationSessions,
    min: latencies[0],
    median: percentile(latencies, 50),
    max: latencies[latencies.length - 1],
    firstPollHits,
    meanPolls: totalPolls / CONFIG.revocationSessions,
  };
  log(`revocation: min ${ms(row.min)}, median ${ms(row.median)}, max ${ms(row.max)}; first poll already 401 in ${firstPollHits}/${row.sessions}`);
  if (row.max > CONFIG.revocationBoundMs) problem(`revocation: slowest ${row.max.toFixed(0)} ms exceeds the contract's ${CONFIG.revocationBoundMs} ms`);
  return row;
}

// ---------------------------------------------------------------------------------------------------
// CPU profile: one --cpu-prof instance; the claims and refresh windows cut out of its samples
// ---------------------------------------------------------------------------------------------------
async function profileScenario(common, claimsUser, rotationUser, workDir) {
  const dir = path.join(workDir, 'profile');
  await mkdir(dir, { recursive: true });
  const counter = pathToFileURL(path.join(ROOT, 'bench/query-counter.mjs')).href;
  const service = await startService('profiled instance', { ...common, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', counter] });
  const windows = {};
  const client = httpClient(service.port, CONFIG.rotationSessions);
  try {
    const { accessToken } = await login(client, claimsUser.email, claimsUser.password);
    const options = cannonOptions(service, { path: '/auth/claims', headers: { authorization: `Bearer ${accessToken}` } });
    log(`profile: GET /auth/claims, warm-up 1 s, then ${CONFIG.profileS} s`);
    await runCannon(options, 1);
    let counted = await queryCounts(service);
    let from = hrUs();
    const claims = await runCannon(options, CONFIG.profileS);
    windows.claims = { from, to: hrUs(), requests: claims.requests.total };
    windows.claims.queries = queriesBetween(counted, await queryCounts(service), claims.requests.total);
    const tokens = await loginSessions(client, rotationUser, CONFIG.rotationSessions);
    log(`profile: POST /auth/refresh, warm-up 1 s, then ${CONFIG.profileS} s`);
    await rotationLoop(client, tokens, 1);
    counted = await queryCounts(service);
    from = hrUs();
    const rotation = await rotationLoop(client, tokens, CONFIG.profileS);
    windows.refresh = { from, to: hrUs(), requests: rotation.count };
    windows.refresh.queries = queriesBetween(counted, await queryCounts(service), rotation.count);
    if (rotation.failures.length) problem(`profile: ${rotation.failures.length} refresh failures: ${rotation.failures.slice(0, 3).join('; ')}`);
  } finally {
    client.close();
  }
  await stopService(service);
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the profiled instance wrote no .cpuprofile');
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
  if (CONFIG.profileDir) {
    await mkdir(CONFIG.profileDir, { recursive: true });
    const target = path.join(CONFIG.profileDir, `service-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    await cp(path.join(dir, file), target);
    log(`profile: raw profile kept at ${target}`);
  }
  const result = {};
  for (const [name, window] of Object.entries(windows)) {
    result[name] = { ...summariseProfile(profile, window), requests: window.requests, seconds: (window.to - window.from) / 1e6, queries: window.queries };
  }
  return result;
}

/** Where a function lives: a package, node's internals, the service's own code. */
function areaOf(url) {
  if (!url) return '(native / V8)';
  if (url.includes('/bench/')) return '(the bench\'s query counter)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const own = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (own) return `service: ${own[1]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url) {
  if (!url) return '';
  const modules = /node_modules\/(.+)$/.exec(url);
  if (modules) return modules[1];
  const own = /\/dist\/(.+)$/.exec(url);
  if (own) return own[1];
  return url.replace(/^file:\/\//, '');
}

/** Self time by function and by area within a window of a .cpuprofile, without (idle). */
function summariseProfile(profile, { from, to }) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map();
  const byArea = new Map();
  let busyUs = 0;
  let t = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    t += profile.timeDeltas[index];
    if (t < from || t > to) continue;
    const weight = Math.min(profile.timeDeltas[index + 1] ?? 0, 10_000);
    const { callFrame } = nodes.get(profile.samples[index]);
    if (callFrame.functionName === '(idle)') continue;
    busyUs += weight;
    const special = callFrame.functionName.startsWith('(');
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '(native)';
    const key = special ? callFrame.functionName : `${callFrame.functionName || '(anonymous)'} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + weight);
    const area = special ? callFrame.functionName : areaOf(callFrame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + weight);
  }
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, selfUs]) => ({ name, selfUs }));
  return { busyUs, functions: top(byFunction, 15), areas: top(byArea, 10) };
}

// ---------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------
function machine() {
  let nproc = String(os.availableParallelism?.() ?? os.cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // keep
  }
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpu = match[1].trim();
  } catch {
    // keep
  }
  const memory = `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`;
  return `nproc ${nproc}, ${cpu}, ${memory} RAM, ${os.type()} ${os.release()}`;
}

function packageVersion(name) {
  for (const candidate of [path.join(ROOT, 'node_modules', name, 'package.json'), path.join(ROOT, 'node_modules/@nestjs/platform-fastify/node_modules', name, 'package.json')]) {
    try {
      return JSON.parse(readFileSync(candidate, 'utf8')).version;
    } catch {
      // next
    }
  }
  return '?';
}

function versions() {
  const names = ['@nestjs/core', '@nestjs/platform-fastify', 'fastify', 'pg', 'typeorm', 'passport', 'jsonwebtoken', '@node-rs/argon2', 'autocannon', 'undici'];
  return `Node ${process.version}, ${names.map((name) => `${name} ${packageVersion(name)}`).join(', ')}`;
}

function source() {
  try {
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'migrations'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return `commit ${commit}${changed ? ` with uncommitted changes in ${changed} file(s) under src/ or migrations/ (dist/ is what ran)` : ' (no uncommitted changes under src/ or migrations/)'}`;
  } catch {
    return 'unknown (no git)';
  }
}

const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const ms = (value) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : '–');
const us = (value) => (Number.isFinite(value) ? (value === 0 ? '0' : `${value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} µs`) : '–');
const mb = (value) => (Number.isFinite(value) ? `${value.toFixed(0)} MB` : '–');
const cores = (value) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
const pct = (value) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %` : '–');
const cpuText = (cpu) => `service ${cores(cpu.service)} / pg ${cores(cpu.postgres)} / load gen ${cores(cpu.bench)} / other ${cores(cpu.other)} cores`;
const DISTURBED_CORES = 0.25;
const cpuCells = (cpu) => (cpu ? `${cores(cpu.service)} / ${cores(cpu.postgres)} / ${cores(cpu.bench)} | ${cpu.other > DISTURBED_CORES ? `**${cores(cpu.other)}**` : cores(cpu.other)}` : ' | ');
const verdict = (pass) => (pass === undefined ? 'n/a' : pass ? '**pass**' : '**FAIL**');

/** The issue's table: each target with its readings and pass/fail. */
function targets(results) {
  const { bare, live, claims, rotation, pgReference, claimsUnderLogin, memory, rows, soak, profile } = results;
  const list = [];
  // Judged on the readings as printed (2 decimals), so that a "0.80×" never fails a 0.8 target.
  const round2 = (value) => Math.round(value * 100) / 100;
  const both = (rps, cpu, target) => (Number.isFinite(rps) && Number.isFinite(cpu) ? round2(rps) >= target && round2(cpu) >= target : undefined);
  if (bare) list.push({ scenario: 'a bare Nest 12 app on Fastify, `GET /hello`', measured: `${int(bare.rate)} req/s, ${us(bare.perOp.service)} CPU/req`, rps: 'reference', cpu: 'reference', target: 'reference', pass: null });
  if (live) {
    const rps = bare ? live.rate / bare.rate : NaN;
    const cpu = bare ? bare.perOp.service / live.perOp.service : NaN;
    list.push({ key: 'liveVsBare', scenario: 'this service, `GET /health/live` (no auth)', measured: `${int(live.rate)} req/s, ${us(live.perOp.service)} CPU/req`, rps: `${ratio(rps)} bare`, cpu: `${ratio(cpu)} bare`, target: `≥ ${TARGETS.liveVsBare}× bare`, pass: both(rps, cpu, TARGETS.liveVsBare), rpsValue: rps, cpuValue: cpu });
  }
  if (claims) {
    const rps = live ? claims.rate / live.rate : NaN;
    const cpu = live ? live.perOp.service / claims.perOp.service : NaN;
    list.push({ key: 'claimsVsLive', scenario: 'this service, `GET /auth/claims` (ES256 Bearer)', measured: `${int(claims.rate)} req/s, ${us(claims.perOp.service)} CPU/req`, rps: `${ratio(rps)} /health/live`, cpu: `${ratio(cpu)} /health/live`, target: `≥ ${TARGETS.claimsVsLive}× /health/live`, pass: both(rps, cpu, TARGETS.claimsVsLive), rpsValue: rps, cpuValue: cpu });
  }
  if (pgReference) {
    list.push({ scenario: `the same rotation as one prepared statement with \`pg\`, ${pgReference.clients} clients`, measured: `${int(pgReference.rate)} rotations/s, ${us(pgReference.perOp.postgres + pgReference.perOp.bench)} CPU/rotation (pg ${us(pgReference.perOp.postgres)} + client ${us(pgReference.perOp.bench)})`, rps: 'reference', cpu: 'reference', target: 'reference', pass: null });
  }
  if (rotation) {
    const rps = pgReference ? rotation.rate / pgReference.rate : NaN;
    const cpu = pgReference ? (pgReference.perOp.postgres + pgReference.perOp.bench) / (rotation.perOp.service + rotation.perOp.postgres) : NaN;
    list.push({
      key: 'refreshVsPg',
      scenario: `\`POST /auth/refresh\`, ${rotation.sessions} clients each rotating its own family`,
      measured: `${int(rotation.rate)} rotations/s, ${us(rotation.perOp.service + rotation.perOp.postgres)} CPU/rotation (service ${us(rotation.perOp.service)} + pg ${us(rotation.perOp.postgres)})${profile?.refresh?.queries ? `; ${profile.refresh.queries.perRequest.toFixed(2)} statements per rotation` : ''}`,
      rps: `${ratio(rps)} pg`,
      cpu: `${ratio(cpu)} pg`,
      target: `≥ ${TARGETS.refreshVsPg}× pg`,
      pass: both(rps, cpu, TARGETS.refreshVsPg),
      rpsValue: rps,
      cpuValue: cpu,
    });
  }
  if (claimsUnderLogin) {
    const { logins } = claimsUnderLogin;
    list.push({ key: 'claimsP99', scenario: `\`/auth/claims\` p99 while ${logins.clients} clients log in nonstop`, measured: `p99 ${ms(claimsUnderLogin.p99)} (${int(claimsUnderLogin.rate)} req/s; logins ${int(logins.rate)}/s${logins.shed ? `, ${int(logins.shed)} shed` : ''})`, rps: '', cpu: '', target: `≤ ${TARGETS.claimsP99UnderLoginMs} ms`, pass: claimsUnderLogin.p99 <= TARGETS.claimsP99UnderLoginMs });
  }
  if (memory) list.push({ key: 'idleRss', scenario: 'idle RSS after start', measured: `${mb(memory.idle)} ${CONFIG.idleWaitMs / 1000} s after ready, ${mb(memory.started)} at ${CONFIG.startRssWaitMs / 1000} s (bare Nest app ${mb(memory.bareIdle)}, ${mb(memory.bareStarted)})`, rps: '', cpu: '', target: `≤ ${TARGETS.idleRssMb} MB`, pass: memory.idle <= TARGETS.idleRssMb });
  if (rows) {
    list.push({
      key: 'rows',
      scenario: `rows one session holds after ${rows.rotations} rotations`,
      measured: `${rows.after.held} row${rows.after.held === 1 ? '' : 's'} (${Object.entries(rows.after.perTable).filter(([table]) => !AUDIT_TABLES.has(table)).map(([table, n]) => `${table} ${n}`).join(', ')}), ${int(rows.after.bytes)} B (${int(rows.before.bytes)} B before the rotations); ${rows.grew ? '**grew**' : '+0 rows'} over them; audit events of the session: ${rows.after.audit}`,
      rps: '',
      cpu: '',
      target: 'O(1): 1 row, no growth',
      pass: rows.after.sessionRows === TARGETS.rowsPerSession && rows.after.held === TARGETS.rowsPerSession && !rows.grew,
    });
  }
  if (soak) {
    const minutes = soak.soakS >= 120;
    list.push({
      key: 'soak',
      scenario: `RSS during ${minutes ? `${+(soak.soakS / 60).toFixed(1)} minutes` : `${soak.soakS} s`} of mixed load (logins, refreshes, guarded reads, logouts)`,
      measured: `${soak.baseline.what} ${mb(soak.baseline.rss)} → ${soak.final.what} ${mb(soak.final.rss)} (${pct(soak.growth)})${minutes ? ', means of the 10 s samples' : ''}`,
      rps: '',
      cpu: '',
      target: minutes ? `last minute ≤ +${TARGETS.soakGrowth * 100} % of minute 1` : `the end ≤ +${TARGETS.soakGrowth * 100} % of the first sample`,
      pass: soak.growth <= TARGETS.soakGrowth,
    });
  }
  // A target read while outside processes took CPU is marked: its rows are not to be trusted.
  const rowsOf = { liveVsBare: [bare, live], claimsVsLive: [live, claims], refreshVsPg: [rotation, pgReference], claimsP99: [claimsUnderLogin], soak: [soak] };
  for (const target of list) {
    const other = Math.max(...(rowsOf[target.key] ?? []).map((row) => row?.cpu?.other ?? 0), 0);
    if (other > DISTURBED_CORES) target.disturbed = other;
  }
  return list;
}

function report(results) {
  const lines = [];
  const { bare, live, claims, rotation, pgReference, loginRow, claimsUnderLogin, revocation, memory, rows, soak, cluster, profile } = results;
  lines.push(`- Command: \`${results.command}\``);
  lines.push(`- Versions: ${results.versions}; PostgreSQL ${results.databaseVersion} (${results.database})`);
  lines.push(`- Machine: ${results.machine}`);
  lines.push(`- Date: ${results.date}; run took ${results.tookS ?? '?'} s`);
  lines.push(`- Source: ${results.source}`);
  lines.push(`- Service: \`node dist/main.js\`, NODE_ENV=production with a fresh ${CONFIG.algorithm} key in JWT_PRIVATE_KEYS, LOG_LEVEL=warn, RATE_LIMIT=off, one process unless noted; reference: \`bench/bare-app.mjs\` (NestFactory + FastifyAdapter, one \`GET /hello\`, no globals); load generator on the same machine (autocannon ${CONFIG.connections} connections / undici / \`pg\`)`);
  lines.push(`- Durations: ${CONFIG.warmupS} s warm-up + ${CONFIG.durationS} s per throughput row (the bare app and \`/health/live\` in ${CONFIG.turns} turns of ${+(CONFIG.durationS / CONFIG.turns).toFixed(2)} s), login ${CONFIG.loginS} s, soak ${CONFIG.soakWarmupS} s warm-up + ${CONFIG.soakS} s${CONFIG.profile ? `, profile ${CONFIG.profileS} s per route` : ''}`);
  lines.push(`- Load average (1 min) at start / end: ${results.loadBefore} / ${results.loadAfter}`);
  lines.push('');
  lines.push('### Targets (issue 9)', '');
  lines.push('A throughput target holds when both readings meet it: the ratio of requests per second, and the inverse ratio of the server CPU each request costs (utime+stime of the server process tree, from /proc).', '');
  lines.push('| scenario | measured | ratio from req/s | ratio from CPU per request | target | result |');
  lines.push('|---|---|---|---|---|---|');
  for (const target of targets(results)) {
    const result = target.pass === null ? '' : `${verdict(target.pass)}${target.disturbed ? ` (disturbed: other CPU ${cores(target.disturbed)})` : ''}`;
    lines.push(`| ${target.scenario} | ${target.measured} | ${target.rps} | ${target.cpu} | ${target.target} | ${result} |`);
  }
  lines.push('');
  lines.push('### Every row', '');
  lines.push('| scenario | throughput | p50 | p99 | errors / non-2xx | CPU per op: service / pg | CPU cores: service / pg / load gen¹ | other CPU² | notes |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const perOpCells = (row) => `${us(row.perOp.service)} / ${us(row.perOp.postgres)}`;
  const cannonLine = (row, note) =>
    `| ${row.label} | ${int(row.rate)} req/s | ${ms(row.p50)} | ${ms(row.p99)} | ${row.errors + row.timeouts} / ${row.non2xx} | ${perOpCells(row)} | ${cpuCells(row.cpu)} | ${row.connections} connections, ${+row.durationS.toFixed(1)} s, ${int(row.total)} requests${row.perTurnUs ? ` in ${row.perTurnUs.length} turns (CPU per request by turn: ${row.perTurnUs.map(us).join(', ')})` : ''}${note ? `; ${note}` : ''} |`;
  if (bare) lines.push(cannonLine(bare, 'the reference'));
  if (live) lines.push(cannonLine(live, bare ? `**${ratio(live.rate / bare.rate)}** bare by req/s, **${ratio(bare.perOp.service / live.perOp.service)}** by CPU` : ''));
  if (claims) lines.push(cannonLine(claims, live ? `**${ratio(claims.rate / live.rate)}** /health/live by req/s, **${ratio(live.perOp.service / claims.perOp.service)}** by CPU` : ''));
  if (rotation) {
    lines.push(
      `| ${rotation.label} | ${int(rotation.rate)} rotations/s | ${ms(rotation.p50)} | ${ms(rotation.p99)} | ${rotation.failures.length} failed | ${perOpCells(rotation)} | ${cpuCells(rotation.cpu)} | ${rotation.sessions} sessions, each rotating its own latest token, ${rotation.elapsedS.toFixed(1)} s, ${int(rotation.count)} rotations; ${rotation.alive}/${rotation.sessions} families alive after |`,
    );
  }
  if (pgReference) {
    lines.push(
      `| ${pgReference.label} | ${int(pgReference.rate)} rotations/s | ${ms(pgReference.p50)} | ${ms(pgReference.p99)} | ${pgReference.failures.length} failed | – / ${us(pgReference.perOp.postgres)} | ${cpuCells(pgReference.cpu)} | ${pgReference.clients} connections, each its own family row, ${pgReference.elapsedS.toFixed(1)} s, ${int(pgReference.count)} rotations; the pg client (load gen) ${us(pgReference.perOp.bench)} per rotation |`,
    );
  }
  if (loginRow) {
    lines.push(
      `| ${loginRow.label} | ${int(loginRow.rate)} logins/s | ${ms(loginRow.p50)} | ${ms(loginRow.p99)} | ${loginRow.failures.total} failed, ${loginRow.shed} shed | ${perOpCells(loginRow)} | ${cpuCells(loginRow.cpu)} | ${loginRow.clients} clients (one user each), ${loginRow.elapsedS.toFixed(1)} s, ${int(loginRow.count)} logins |`,
    );
  }
  if (claimsUnderLogin) {
    const { logins } = claimsUnderLogin;
    lines.push(cannonLine(claimsUnderLogin, `logins meanwhile ${int(logins.rate)}/s, p99 ${ms(logins.p99)}, ${logins.shed} shed, ${logins.failures.total} failed`));
  }
  if (revocation) {
    lines.push(
      `| ${revocation.label} | min ${ms(revocation.min)} / median ${ms(revocation.median)} / max ${ms(revocation.max)} | | | | | | | logout on instance 1 → first 401 on instance 2, ${revocation.sessions} sessions; first poll already 401 in ${revocation.firstPollHits}/${revocation.sessions}, ${revocation.meanPolls.toFixed(1)} polls on average |`,
    );
  }
  if (memory) {
    lines.push(
      `| RSS, instance 1 | idle ${mb(memory.idle)} → after the rows ${mb(memory.afterRows)} → after the soak ${mb(memory.afterSoak)} | | | | | | | VmRSS ${CONFIG.idleWaitMs / 1000} s after ready (start-up ${(memory.startMs / 1000).toFixed(2)} s; ${mb(memory.started)} at ${CONFIG.startRssWaitMs / 1000} s, before V8's memory reducer shrank the heap); bare Nest app idle ${mb(memory.bareIdle)} (start-up ${(memory.bareStartMs / 1000).toFixed(2)} s; ${mb(memory.bareStarted)} at ${CONFIG.startRssWaitMs / 1000} s), after its run ${mb(memory.bareAfter)} |`,
    );
  }
  if (rows) {
    lines.push(
      `| Rows of one session after ${rows.rotations} rotations | ${rows.after.held} row${rows.after.held === 1 ? '' : 's'} + ${rows.after.audit} audit event${rows.after.audit === 1 ? '' : 's'} | | | | | | | per table: ${Object.entries(rows.after.perTable).map(([table, n]) => `${table} ${n}`).join(', ')} (before the rotations: ${rows.before.held} + ${rows.before.audit}); auth_sessions row ${int(rows.before.bytes)} → ${int(rows.after.bytes)} bytes; table growth over the rotations: ${Object.entries(rows.growth).map(([table, n]) => `${table} ${n >= 0 ? '+' : ''}${n}`).join(', ')} |`,
    );
  }
  if (soak) {
    // Every 10 s sample is in the log on stderr; here the minutes (mean / max), or the samples of a short soak.
    const rssText =
      soak.soakS >= 120
        ? `RSS by minute, mean / max of its 10 s samples: ${soak.perMinute.map((minute) => `${minute.minute}: ${mb(minute.rss)} / ${mb(minute.max)}`).join(', ')}`
        : `RSS ${soak.samples.map((sample) => `${sample.t} s ${mb(sample.rss)}`).join(', ')}`;
    lines.push(
      `| ${soak.label} | ${int(soak.rate)} req/s | | | ${soak.failures.total} failed | | ${cpuCells(soak.cpu)} | ${soak.workers} workers, ${soak.elapsedS.toFixed(0)} s: ${int(soak.counts.logins)} logins, ${int(soak.counts.refreshes)} refreshes, ${int(soak.counts.reads)} claims reads, ${int(soak.counts.lists)} session lists, ${int(soak.counts.logouts)} logouts; ${rssText} (at the start ${mb(soak.samples[0].rss)}; before it ${soak.warmup.seconds} s of the same load: ${int(soak.warmup.counts.logins)} logins, ${int(soak.warmup.counts.reads)} claims reads, RSS ${mb(soak.warmup.rssBefore)} → ${mb(soak.warmup.rssAfter)}) |`,
    );
  }
  if (cluster?.skipped) lines.push(`| WEB_CONCURRENCY=${CONFIG.clusterWorkers} | skipped | | | | | | | | ${cluster.skipped} |`);
  if (cluster?.live) lines.push(cannonLine(cluster.live, live ? `${ratio(cluster.live.rate / live.rate)} one process` : ''));
  if (cluster?.claims) {
    lines.push(cannonLine(cluster.claims, `${cluster.live ? `${ratio(cluster.claims.rate / cluster.live.rate)} its /health/live; ` : ''}${claims ? `${ratio(cluster.claims.rate / claims.rate)} one process` : ''}`));
  }
  if (cluster?.memory) lines.push(`| RSS, WEB_CONCURRENCY=${CONFIG.clusterWorkers} | ${mb(cluster.memory.totalMb)} after load | | | | | | | | primary + workers, ${cluster.memory.processes} processes |`);
  lines.push('');
  lines.push('¹ CPU used during the measured run (from /proc, in cores of the machine): the server\'s process tree (service or bare app), the embedded PostgreSQL (– when external), and the benchmark process itself (autocannon, the undici clients or the `pg` reference clients). A single-process server near 1.00 is saturated. "CPU per op" is the same CPU divided by the requests (or rotations) of the row.');
  lines.push('');
  lines.push('² CPU used meanwhile by processes outside this benchmark (other people\'s tests, builds); in bold above 0.25 core: that row was disturbed.');
  if (profile?.skipped) lines.push('', `### CPU profile`, '', `Skipped: ${profile.skipped}.`);
  if (profile && !profile.skipped) {
    lines.push('', '### CPU profile', '');
    lines.push(
      `A separate instance under \`node --cpu-prof\` and bench/query-counter.mjs (which slow it: its rates are not the rows above), ${CONFIG.profileS} s of each route under the same load as its row; self time on the service's main thread per request, idle left out. The profiler samples on the wall clock: on 2 shared cores, time the thread waited for a core counts where it stopped (often \`writev\`, a system call). Threads outside V8 (argon2, libuv) are not in it.`,
    );
    for (const [name, title] of [
      ['claims', '`GET /auth/claims`'],
      ['refresh', '`POST /auth/refresh`'],
    ]) {
      const summary = profile[name];
      if (!summary) continue;
      const perRequest = (selfUs) => us(selfUs / summary.requests);
      const share = (selfUs) => `${((selfUs / summary.busyUs) * 100).toFixed(1)} %`;
      lines.push('', `**${title}**: ${int(summary.requests)} requests in ${summary.seconds.toFixed(1)} s, ${perRequest(summary.busyUs)} of main-thread CPU per request.`, '');
      lines.push('| where (package or part) | self per request | share |', '|---|---|---|');
      for (const area of summary.areas) lines.push(`| ${area.name} | ${perRequest(area.selfUs)} | ${share(area.selfUs)} |`);
      lines.push('', '| function (self time) | self per request | share |', '|---|---|---|');
      for (const fn of summary.functions) lines.push(`| \`${fn.name.replaceAll('|', '\\|')}\` | ${perRequest(fn.selfUs)} | ${share(fn.selfUs)} |`);
      if (summary.queries) {
        lines.push('', `Queries sent through \`pg\` meanwhile (bench/query-counter.mjs): **${summary.queries.perRequest.toFixed(2)} per request**.`);
        const shown = summary.queries.statements.filter((statement) => statement.perRequest >= 0.01).slice(0, 10);
        if (shown.length) {
          lines.push('', '| statement (first 100 characters) | per request |', '|---|---|');
          for (const statement of shown) lines.push(`| \`${statement.text.replaceAll('|', '\\|')}\` | ${statement.perRequest.toFixed(2)} |`);
        }
      }
    }
  }
  if (problems.length) {
    lines.push('', '**Problems:**', '');
    for (const message of problems) lines.push(`- ${message.split('\n')[0]}`);
  }
  return lines.join('\n');
}

const BEGIN = '<!-- bench:begin — written by `npm run bench` (bench/run.mjs); edit outside these markers -->';
const END = '<!-- bench:end -->';

/** Replaces the generated part of BENCHMARKS.md; the rest (the analysis) is kept. Without the markers, writes a new file. */
async function writeBenchmarks(markdown, file) {
  const generated = `${BEGIN}\n\n## Results\n\n${markdown}\n\n${END}`;
  let text;
  const existing = existsSync(file) ? await readFile(file, 'utf8') : '';
  const begin = existing.indexOf('<!-- bench:begin');
  const end = existing.indexOf(END);
  if (begin >= 0 && end > begin) {
    text = `${existing.slice(0, begin)}${generated}${existing.slice(end + END.length)}`;
  } else {
    text = [
      '# Benchmarks',
      '',
      'How to reproduce: `npm run bench` (`npm run build && node bench/run.mjs`, about 8 minutes with the 5-minute soak; see',
      '[bench/README.md](bench/README.md)). This is a 2-core VM shared with other people\'s test runs: the **other CPU**',
      'column shows the CPU that processes outside the benchmark used during each row; compare rows only where it is about 0.',
      '',
      generated,
      '',
      '## What the numbers mean',
      '',
      '_Analysis of the run above, written by hand: `npm run bench` rewrites only the part between the bench markers._',
      '',
    ].join('\n');
  }
  await writeFile(file, text);
  log(`wrote ${path.relative(process.cwd(), file) || file}`);
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------
const remainingS = () => (CONFIG.deadlineMs - (Date.now() - startedAt)) / 1000;

async function main(results) {
  if (!existsSync(path.join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run bench` (it builds first)');
  results.loadBefore = os.loadavg()[0].toFixed(2);

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'auth-bench-'));
  onCleanup('temp dir', () => rm(workDir, { recursive: true, force: true }));
  // A private copy of the build: other people's `npm run build` in this checkout (rm -rf dist) must not
  // pull the files from under a running service or the later process starts.
  const appDir = path.join(workDir, 'app');
  await mkdir(appDir);
  await cp(path.join(ROOT, 'dist'), path.join(appDir, 'dist'), { recursive: true });
  if (!existsSync(path.join(appDir, 'dist/main.js'))) throw new Error('dist/ changed while it was copied (a concurrent build?); run again');
  await writeFile(path.join(appDir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(path.join(ROOT, 'node_modules'), path.join(appDir, 'node_modules'), 'dir');
  const dataDir = path.join(workDir, 'data');

  const database = await prepareDatabase(workDir, appDir);
  results.database = database.description;
  results.databaseVersion = await serverVersion(database.url);
  const common = { appDir, dataDir, databaseUrl: database.url, secrets: productionSecrets(CONFIG.algorithm) };

  // --- idle memory: the bare app and instance 1, read CONFIG.startRssWaitMs and CONFIG.idleWaitMs after ready
  const bareApp = await startBare();
  const first = await startService('instance 1', common);
  await sleep(CONFIG.startRssWaitMs);
  results.memory = { started: serviceRssMb(first).mainMb, startMs: first.startMs, bareStarted: serviceRssMb(bareApp).mainMb, bareStartMs: bareApp.startMs };
  await sleep(CONFIG.idleWaitMs - CONFIG.startRssWaitMs);
  Object.assign(results.memory, { idle: serviceRssMb(first).mainMb, bareIdle: serviceRssMb(bareApp).mainMb });
  log(`RSS ${CONFIG.startRssWaitMs / 1000} s / ${CONFIG.idleWaitMs / 1000} s after ready: instance 1 ${mb(results.memory.started)} / ${mb(results.memory.idle)}, bare Nest app ${mb(results.memory.bareStarted)} / ${mb(results.memory.bareIdle)}`);

  // Users, one per role, so that no load evicts another's sessions (SESSIONS_PER_USER_MAX) or waits on its lock.
  const runId = `${Date.now()}-${process.pid}`;
  const user = (tag) => ({ email: `bench-${runId}-${tag}@example.com`, password: `bench password ${tag} 0123456789` });
  const setup = httpClient(first.port, 1);
  let accessToken;
  let users;
  try {
    users = {
      claims: await register(setup, user('claims')),
      rotation: await register(setup, user('rotation')),
      revocation: await register(setup, user('revocation')),
      login: [],
      soak: [],
    };
    for (let index = 0; index < Math.max(CONFIG.loginLoadClients, CONFIG.loginConcurrency); index++) users.login.push(await register(setup, user(`login${index}`)));
    for (let index = 0; index < CONFIG.soakWorkers; index++) users.soak.push(await register(setup, user(`soak${index}`)));
    ({ accessToken } = await login(setup, users.claims.email, users.claims.password));
    await expectStatus(setup('GET', '/auth/claims', { token: accessToken }), 200, 'claims with a fresh token');
  } finally {
    setup.close();
  }

  // --- throughput: the bare app and /health/live taking turns, then /auth/claims ---------------------
  [results.bare, results.live] = await cannonScenariosInTurns([
    { label: 'bare Nest app: GET /hello', service: bareApp, request: { path: '/hello' } },
    { label: 'GET /health/live (no auth)', service: first, request: { path: '/health/live' } },
  ]);
  results.memory.bareAfter = serviceRssMb(bareApp).mainMb;
  await stopService(bareApp);
  results.claims = await cannonScenario('GET /auth/claims (ES256 Bearer)', first, { path: '/auth/claims', headers: { authorization: `Bearer ${accessToken}` } });

  // --- refresh against the pg reference, then the rows one session holds ---------------------------
  results.rotation = await rotationScenario(first, users.rotation);
  results.pgReference = await pgReferenceScenario(database.url);
  results.rows = await rowsScenario(first, users.rotation, database.url);
  results.memory.afterRows = serviceRssMb(first).mainMb;

  // --- logins, alone and beside guarded reads -------------------------------------------------------
  results.loginRow = await loginScenario(first, users.login.slice(0, CONFIG.loginConcurrency));
  results.claimsUnderLogin = await claimsUnderLoginScenario(first, accessToken, users.login.slice(0, CONFIG.loginLoadClients));

  // --- instance 2: same database and secrets ---------------------------------------------------------
  const second = await startService('instance 2', common);
  results.revocation = await revocationScenario(first, second, users.revocation);
  await stopService(second);

  // --- the profile and the cluster when time allows, leaving the soak its time -----------------------
  const soakNeedS = CONFIG.soakWarmupS + CONFIG.soakS + 30;
  const profileNeedS = 2 * (CONFIG.profileS + 1) + 15;
  if (!CONFIG.profile) {
    results.profile = { skipped: 'BENCH_PROFILE=0' };
  } else if (remainingS() - soakNeedS < profileNeedS) {
    results.profile = { skipped: `not enough time left (${remainingS().toFixed(0)} s)` };
    log(`skipping the profile: ${results.profile.skipped}`);
  } else {
    try {
      results.profile = await profileScenario(common, users.claims, users.rotation, workDir);
      for (const [name, summary] of Object.entries(results.profile)) {
        log(`profile ${name}: ${us(summary.busyUs / summary.requests)} per request, ${summary.queries ? summary.queries.perRequest.toFixed(2) : '?'} pg queries per request; top: ${summary.functions.slice(0, 5).map((fn) => `${fn.name} ${us(fn.selfUs / summary.requests)}`).join('; ')}`);
      }
    } catch (error) {
      problem(`profile failed: ${error.message}`);
      results.profile = { skipped: `failed: ${error.message}` };
    }
  }
  const clusterNeedS = 2 * (CONFIG.warmupS + CONFIG.durationS) + 15;
  if (CONFIG.skipCluster) {
    results.cluster = { skipped: 'BENCH_SKIP_CLUSTER=1' };
  } else if (remainingS() - soakNeedS < clusterNeedS) {
    results.cluster = { skipped: `not enough time left (${remainingS().toFixed(0)} s)` };
    log(`skipping WEB_CONCURRENCY=${CONFIG.clusterWorkers}: ${results.cluster.skipped}`);
  } else {
    const cluster = await startService(`WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, { ...common, extraEnv: { WEB_CONCURRENCY: String(CONFIG.clusterWorkers) }, listeners: CONFIG.clusterWorkers });
    const client = httpClient(cluster.port, 1);
    let token;
    try {
      ({ accessToken: token } = await login(client, users.claims.email, users.claims.password));
    } finally {
      client.close();
    }
    results.cluster = {};
    results.cluster.live = await cannonScenario(`GET /health/live, WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, cluster, { path: '/health/live' });
    results.cluster.claims = await cannonScenario(`GET /auth/claims, WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, cluster, { path: '/auth/claims', headers: { authorization: `Bearer ${token}` } });
    results.cluster.memory = serviceRssMb(cluster);
    await stopService(cluster);
  }

  // --- the soak, last, on instance 1 -----------------------------------------------------------------
  // Never let the deadline abort the soak (and lose the whole report): shorten it, and say so.
  const soakS = Math.max(10, Math.min(CONFIG.soakS, Math.floor(remainingS() - CONFIG.soakWarmupS - 25)));
  if (soakS < CONFIG.soakS) problem(`soak shortened to ${soakS} s of ${CONFIG.soakS} s by BENCH_DEADLINE`);
  results.soak = await soakScenario(first, users.soak, soakS);
  results.memory.afterSoak = serviceRssMb(first).mainMb;
  await stopService(first);
  for (const service of [first, second]) if (service.warnings) log(`${service.name} logged ${service.warnings} warn/error lines; last: ${service.tail.at(-1)}`);
  results.loadAfter = os.loadavg()[0].toFixed(2);
}

const results = {
  command: `${Object.keys(process.env)
    .filter((key) => key.startsWith('BENCH_') || key === 'JWT_ALGORITHM')
    .sort()
    .map((key) => `${key}=${key === 'BENCH_DATABASE_URL' ? '…' : process.env[key]} `)
    .join('')}${process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node bench/run.mjs'}`,
  machine: machine(),
  versions: versions(),
  source: source(),
  date: new Date().toISOString(),
  database: '?',
  databaseVersion: '',
  loadBefore: '?',
  loadAfter: '?',
};
let abort;
const aborted = new Promise((_, reject) => {
  abort = reject;
});
const watchdog = setTimeout(() => abort(new Error(`the run exceeded ${CONFIG.deadlineMs / 1000} s`)), CONFIG.deadlineMs);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => abort(new Error(`interrupted by ${signal}`)));

let failed = false;
let reported = results;
try {
  await Promise.race([main(results), aborted]);
} catch (error) {
  failed = true;
  problems.push(`the run failed: ${error?.message ?? error}`);
  // Rows finished so far; the abandoned main() may still write into `results` while things stop.
  reported = { ...results, memory: results.memory && { ...results.memory } };
  stopped = true;
  log(`FAILED: ${error?.stack ?? error}`);
} finally {
  clearTimeout(watchdog);
  log('cleaning up');
  await runCleanups();
}
if (reported.loadAfter === '?') reported.loadAfter = os.loadavg()[0].toFixed(2);
reported.tookS = ((Date.now() - startedAt) / 1000).toFixed(0);
let markdown = '';
try {
  markdown = report(reported);
  process.stdout.write(`${markdown}\n`);
} catch (error) {
  failed = true;
  log(`could not write the report: ${error?.stack ?? error}`);
}
const missed = targets(reported).filter((target) => target.pass === false);
for (const target of targets(reported)) {
  if (target.pass === null) continue;
  log(`target ${verdict(target.pass).replaceAll('*', '')}${target.disturbed ? ` (disturbed: other CPU ${cores(target.disturbed)})` : ''}: ${target.scenario.replaceAll('`', '')}: ${target.measured.replaceAll('*', '')}${target.rps ? `; ${target.rps} by req/s, ${target.cpu} by CPU` : ''} (target ${target.target})`);
}
const shouldWrite = (CONFIG.write !== undefined && CONFIG.write !== '0') || (CONFIG.write === undefined && CONFIG.fullLength);
if (markdown && !failed && shouldWrite) {
  try {
    await writeBenchmarks(markdown, CONFIG.write && CONFIG.write !== '1' ? path.resolve(CONFIG.write) : path.join(ROOT, 'BENCHMARKS.md'));
  } catch (error) {
    failed = true;
    log(`could not write BENCHMARKS.md: ${error?.message ?? error}`);
  }
} else if (markdown && !failed) {
  log(`BENCHMARKS.md left as it is (${CONFIG.write === '0' ? 'BENCH_WRITE=0' : 'a shortened run; BENCH_WRITE=1 writes it anyway'})`);
}
if (failed || problems.length) {
  log(`exit 1: ${failed ? 'the run failed' : `${problems.length} problem(s)`}`);
  process.exit(1);
}
if (CONFIG.strict && missed.length) {
  log(`exit 2: ${missed.length} target(s) missed (BENCH_STRICT=1)`);
  process.exit(2);
}
log(`done in ${reported.tookS} s${missed.length ? `; ${missed.length} target(s) missed` : '; every target met'}`);
process.exit(0);
