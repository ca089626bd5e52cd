// Benchmark suite for the auth service: `npm run bench` (= `npm run build && node bench/run.mjs`).
//
// Starts (or uses) a database, runs the compiled service as child processes on 127.0.0.1 and measures
// the unguarded baseline, the JWT guard, refresh rotation, login, cross-instance revocation latency and
// memory. Progress goes to stderr; the Markdown report goes to stdout. Exits non-zero when anything
// failed (a start-up, an error response, a lost rotation, a revocation not seen within 1 s, an unclean
// exit), always after stopping everything it started. See bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

const seconds = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return value;
};

const CONFIG = {
  warmupS: 2,
  durationS: seconds('BENCH_DURATION', 10), // each autocannon / rotation measurement
  loginS: seconds('BENCH_LOGIN_DURATION', 8),
  connections: 50,
  rotationSessions: 32,
  loginConcurrency: 8,
  revocationSessions: 20,
  revocationBoundMs: 1000, // the contract: revoked on every instance within one second
  revocationGiveUpMs: 5000,
  deadlineMs: seconds('BENCH_DEADLINE', 175) * 1000, // the whole run, start-ups included
  clusterWorkers: 2,
  skipCluster: process.env.BENCH_SKIP_CLUSTER === '1',
};

const startedAt = Date.now();
const log = (message) => process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
const problem = (message) => {
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

/** A minimal JSON HTTP client on keep-alive sockets (lighter than fetch, so the client steals less CPU). */
function httpClient(port, maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const request = (method, urlPath, { body, token } = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = {};
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      if (token) headers.authorization = `Bearer ${token}`;
      const req = http.request({ host: HOST, port, method, path: urlPath, headers, agent, timeout: 10_000 }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, text });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 10 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  request.close = () => agent.destroy();
  return request;
}

async function expectStatus(promise, status, what) {
  const response = await promise;
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text.slice(0, 300)}`);
  }
  return response;
}

// ---------------------------------------------------------------------------------------------------
// /proc: memory of a process tree, and CPU used by processes outside our tree (disturbance indicator)
// ---------------------------------------------------------------------------------------------------
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid = field 4, utime = 14, stime = 15
    return { comm, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
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

/** RSS of a service process; with node:cluster, the primary plus its workers. */
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

/** Machine-wide busy CPU, and the CPU of our groups: the service under test (its process tree), the embedded PostgreSQL (its tree) and this process (the load generator). */
function cpuSnapshot(service) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const processes = allProcesses();
  const treeTicks = (root) => {
    let ticks = 0;
    for (const pid of descendants(root, processes)) ticks += processes.get(pid)?.cpuTicks ?? 0;
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
 * Cores used during the interval: `other` by processes outside this benchmark and its children (a
 * disturbance indicator), `service`, `postgres` (NaN when external) and `bench` (the load generator).
 */
function cpuSplit(before, after) {
  const perCore = (ticks) => ticks / clockTicks / ((after.at - before.at) / 1000);
  return {
    other: perCore(Math.max(0, after.busy - before.busy - (after.ours - before.ours))),
    service: perCore(after.service - before.service),
    postgres: perCore(after.postgres - before.postgres),
    bench: perCore(after.bench - before.bench),
  };
}

// ---------------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------------
async function prepareDatabase(workDir, appDir) {
  const { migrateDatabase } = await import(pathToFileURL(path.join(appDir, 'dist/src/database/migrate.js')).href);
  if (process.env.BENCH_DATABASE_URL) {
    const url = process.env.BENCH_DATABASE_URL;
    log(`using BENCH_DATABASE_URL (${url.replace(/\/\/[^@/]*@/, '//…@')}); migrating`);
    await migrateDatabase(url);
    return { url, description: 'BENCH_DATABASE_URL' };
  }
  const { startEmbeddedPostgres } = await import(
    pathToFileURL(path.join(appDir, 'dist/src/database/embedded-postgres.js')).href
  );
  log('starting a throw-away embedded PostgreSQL');
  const server = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port: 0, database: 'auth_bench', durable: false });
  onCleanup('embedded PostgreSQL', () => server.stop());
  log(`embedded PostgreSQL at ${server.url.replace(/\/\/([^:@\/]+):[^@\/]*@/, '//$1:***@')}; migrating`);
  await migrateDatabase(server.url);
  return { url: server.url, description: 'throw-away embedded PostgreSQL (fsync off)' };
}

async function serverVersion(url) {
  try {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query('SHOW server_version')).rows[0].server_version;
    } finally {
      await client.end();
    }
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// Service processes
// ---------------------------------------------------------------------------------------------------
const LOG_TAIL = 40;

async function startService(name, { appDir, dataDir, databaseUrl, extraEnv = {}, listeners = 1 }) {
  const port = await freePort();
  const env = { ...process.env };
  // Nothing from the caller's shell may change what is measured, except the documented variables below.
  for (const key of ['NODE_ENV', 'WEB_CONCURRENCY', 'DB_MIGRATE_ON_START', 'NODE_OPTIONS']) delete env[key];
  Object.assign(env, {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'warn',
    RATE_LIMIT: 'off',
    DATA_DIR: dataDir,
    ...extraEnv,
  });
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const service = { name, port, child, tail: [], listening: 0, warnings: 0, startMs: NaN };
  service.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (error) => service.tail.push(`spawn error: ${error.message}`));
  const onData = (chunk) => {
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      service.tail.push(line);
      if (service.tail.length > LOG_TAIL) service.tail.shift();
      if (line.includes('listening on http')) service.listening += 1;
      // pino levels: 40 warn, 50 error, 60 fatal
      if (/"level":(4|5|6)0/.test(line)) service.warnings += 1;
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  onCleanup(`service ${name}`, () => stopService(service, { quiet: true }));
  log(`starting ${name} on port ${port}${extraEnv.WEB_CONCURRENCY ? ` (WEB_CONCURRENCY=${extraEnv.WEB_CONCURRENCY})` : ''}`);

  const client = httpClient(port, 1);
  const deadline = performance.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited during start-up (${child.signalCode ?? child.exitCode}). Last output:\n${service.tail.join('\n')}`);
      }
      if (performance.now() > deadline) throw new Error(`${name} was not ready within 30 s. Last output:\n${service.tail.join('\n')}`);
      const health = await client('GET', '/health').catch(() => undefined);
      if (health?.status === 200 && service.listening >= listeners) break;
      await sleep(50);
    }
  } finally {
    client.close();
  }
  service.startMs = performance.now() - started;
  log(`${name} ready in ${(service.startMs / 1000).toFixed(2)} s (pid ${child.pid})`);
  return service;
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
async function runCannon(options, durationS) {
  const result = await autocannon({ ...options, duration: durationS });
  return result;
}

/** Warm-up, then a measured autocannon run. */
async function cannonScenario(label, service, { path: urlPath, method = 'GET', headers, body, connections = CONFIG.connections, durationS = CONFIG.durationS }) {
  const options = { url: `http://${HOST}:${service.port}${urlPath}`, method, headers, body, connections, pipelining: 1, timeout: 10 };
  log(`${label}: warm-up ${CONFIG.warmupS} s, then ${durationS} s with ${connections} connections`);
  await runCannon(options, CONFIG.warmupS);
  const before = cpuSnapshot(service);
  const result = await runCannon(options, durationS);
  const after = cpuSnapshot(service);
  const row = {
    label,
    rate: result.requests.mean,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    connections,
    durationS: result.duration,
    cpu: cpuSplit(before, after),
  };
  log(`${label}: ${row.rate.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}, non-2xx ${row.non2xx}, CPU ${cpuText(row.cpu)}`);
  if (row.errors || row.timeouts || row.non2xx) {
    problem(`${label}: ${row.errors} errors, ${row.timeouts} timeouts, ${row.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)})`);
  }
  if (!row.total) problem(`${label}: no request completed`);
  return row;
}

async function login(client, email, password) {
  const response = await expectStatus(client('POST', '/auth/login', { body: { email, password } }), 200, 'login');
  const { accessToken, refreshToken, sessionId } = response.json ?? {};
  if (typeof accessToken !== 'string' || typeof refreshToken !== 'string') throw new Error(`login: no token pair in ${response.text.slice(0, 200)}`);
  return { accessToken, refreshToken, sessionId };
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

async function rotationScenario(service, email, password) {
  const sessions = CONFIG.rotationSessions;
  const client = httpClient(service.port, sessions);
  try {
    log(`rotation: logging in ${sessions} sessions`);
    const tokens = [];
    for (let index = 0; index < sessions; index++) tokens.push((await login(client, email, password)).refreshToken);
    log(`rotation: warm-up ${CONFIG.warmupS} s, then ${CONFIG.durationS} s with ${sessions} concurrent sessions`);
    const warm = await rotationLoop(client, tokens, CONFIG.warmupS);
    const before = cpuSnapshot(service);
    const measured = warm.failures.length ? { count: 0, rate: 0, p50: NaN, p99: NaN, failures: [], notRotated: 0, elapsedS: 0 } : await rotationLoop(client, tokens, CONFIG.durationS);
    const after = cpuSnapshot(service);
    const failures = [...warm.failures, ...measured.failures];
    const notRotated = warm.notRotated + measured.notRotated;
    const row = { label: 'POST /auth/refresh rotation', ...measured, failures, notRotated, sessions, cpu: cpuSplit(before, after) };
    log(`rotation: ${row.rate.toFixed(0)} rotations/s, p50 ${row.p50?.toFixed(2)} ms, p99 ${row.p99?.toFixed(2)} ms, ${failures.length} failures, CPU ${cpuText(row.cpu)}`);
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

async function revocationScenario(first, second, email, password) {
  const one = httpClient(first.port, 1);
  const two = httpClient(second.port, 1);
  const latencies = [];
  let firstPollHits = 0;
  let totalPolls = 0;
  try {
    log(`revocation: ${CONFIG.revocationSessions} sessions (login + logout on ${first.name}, poll ${second.name})`);
    for (let index = 0; index < CONFIG.revocationSessions; index++) {
      const { accessToken } = await login(one, email, password);
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
  log(`revocation: min ${row.min.toFixed(2)} ms, median ${row.median.toFixed(2)} ms, max ${row.max.toFixed(2)} ms; first poll already 401 in ${firstPollHits}/${row.sessions}`);
  if (row.max > CONFIG.revocationBoundMs) problem(`revocation: slowest ${row.max.toFixed(0)} ms exceeds the contract's ${CONFIG.revocationBoundMs} ms`);
  return row;
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
  return `nproc ${nproc}, ${cpu}, ${memory} RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const ms = (value) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : '–');
const mb = (value) => (Number.isFinite(value) ? `${value.toFixed(0)} MB` : '–');
const cores = (value) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const cpuText = (cpu) => `service ${cores(cpu.service)} / pg ${cores(cpu.postgres)} / load gen ${cores(cpu.bench)} / other ${cores(cpu.other)} cores`;
const cpuCells = (cpu) => `${cores(cpu.service)} / ${cores(cpu.postgres)} / ${cores(cpu.bench)} | ${cpu.other > 0.25 ? `**${cores(cpu.other)}**` : cores(cpu.other)}`;

function report(results) {
  const lines = [];
  const { live, claims, rotation, loginRow, revocation, memory, cluster } = results;
  lines.push('## Results', '');
  lines.push(`- Command: \`npm run bench\` (\`npm run build && node bench/run.mjs\`)`);
  lines.push(`- Machine: ${results.machine}`);
  lines.push(`- Date: ${results.date}`);
  lines.push(`- Database: ${results.database} ${results.databaseVersion}; service: \`node dist/main.js\`, LOG_LEVEL=warn, RATE_LIMIT=off, ES256, one process unless noted; load generator in the same machine (autocannon / Node http client)`);
  lines.push(`- Load average (1 min) at start / end: ${results.loadBefore} / ${results.loadAfter}`);
  lines.push('');
  lines.push('| scenario | throughput | p50 | p99 | errors / non-2xx | CPU cores: service / pg / load gen¹ | other CPU² | notes |');
  lines.push('|---|---|---|---|---|---|---|---|');
  const cannonLine = (row, note) =>
    `| ${row.label} | ${int(row.rate)} req/s | ${ms(row.p50)} | ${ms(row.p99)} | ${row.errors + row.timeouts} / ${row.non2xx} | ${cpuCells(row.cpu)} | ${row.connections} connections, ${row.durationS} s, ${int(row.total)} requests${note ? `; ${note}` : ''} |`;
  if (live) lines.push(cannonLine(live));
  if (claims) lines.push(cannonLine(claims, live ? `**${(claims.rate / live.rate).toFixed(2)} ×** the unguarded rate` : ''));
  if (rotation) {
    lines.push(
      `| ${rotation.label} | ${int(rotation.rate)} rotations/s | ${ms(rotation.p50)} | ${ms(rotation.p99)} | ${rotation.failures.length} failed | ${cpuCells(rotation.cpu)} | ${rotation.sessions} sessions, each rotating its own latest token, ${rotation.elapsedS.toFixed(1)} s, ${int(rotation.count)} rotations; ${rotation.alive}/${rotation.sessions} families alive after |`,
    );
  }
  if (loginRow) lines.push(cannonLine(loginRow, 'argon2id, one registered user'));
  if (revocation) {
    lines.push(
      `| ${revocation.label} | min ${ms(revocation.min)} / median ${ms(revocation.median)} / max ${ms(revocation.max)} | | | | | | logout on instance 1 → first 401 on instance 2, ${revocation.sessions} sessions; first poll already 401 in ${revocation.firstPollHits}/${revocation.sessions}, ${revocation.meanPolls.toFixed(1)} polls on average |`,
    );
  }
  if (memory) {
    lines.push(
      `| RSS, instance 1 | idle ${mb(memory.idle)} → after load ${mb(memory.after)} | | | | | | VmRSS 1 s after ready (start-up ${(memory.startMs / 1000).toFixed(2)} s); ${mb(memory.afterGet)} after the GET runs, ${mb(memory.afterRotation)} after rotation, ${mb(memory.after)} after login |`,
    );
  }
  if (cluster?.skipped) lines.push(`| WEB_CONCURRENCY=${CONFIG.clusterWorkers} | skipped | | | | | | ${cluster.skipped} |`);
  if (cluster?.live) lines.push(cannonLine(cluster.live, live ? `${(cluster.live.rate / live.rate).toFixed(2)} × one process` : ''));
  if (cluster?.claims) {
    lines.push(cannonLine(cluster.claims, `${cluster.live ? `${(cluster.claims.rate / cluster.live.rate).toFixed(2)} × its unguarded rate; ` : ''}${claims ? `${(cluster.claims.rate / claims.rate).toFixed(2)} × one process` : ''}`));
  }
  if (cluster?.memory) lines.push(`| RSS, WEB_CONCURRENCY=${CONFIG.clusterWorkers} | ${mb(cluster.memory.totalMb)} after load | | | | | | primary + workers, ${cluster.memory.processes} processes |`);
  lines.push('');
  lines.push('¹ CPU used during the measured run (from /proc, in cores of the 2): the service process tree, the embedded PostgreSQL (– when external), and the benchmark process itself (autocannon or the rotation client). A single-process service near 1.00 is saturated.');
  lines.push('');
  lines.push('² CPU used meanwhile by processes outside this benchmark (other people\'s tests, builds); in bold above 0.25 core: that row was disturbed.');
  if (problems.length) {
    lines.push('', '**Problems:**', '');
    for (const message of problems) lines.push(`- ${message.split('\n')[0]}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------
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

  const email = `bench-${Date.now()}-${process.pid}@example.com`;
  const password = 'bench password 0123456789';
  const common = { appDir, dataDir, databaseUrl: database.url };

  // --- instance 1 ----------------------------------------------------------------------------------
  const first = await startService('instance 1', common);
  await sleep(1000);
  results.memory = { idle: serviceRssMb(first).mainMb, startMs: first.startMs };

  const setup = httpClient(first.port, 1);
  let accessToken;
  try {
    await expectStatus(setup('POST', '/auth/register', { body: { email, password, displayName: 'Bench' } }), 201, 'register');
    ({ accessToken } = await login(setup, email, password));
    await expectStatus(setup('GET', '/auth/claims', { token: accessToken }), 200, 'claims with a fresh token');
  } finally {
    setup.close();
  }

  results.live = await cannonScenario('GET /health/live (unguarded)', first, { path: '/health/live' });
  results.claims = await cannonScenario('GET /auth/claims (ES256 guard)', first, {
    path: '/auth/claims',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  results.memory.afterGet = serviceRssMb(first).mainMb;
  results.rotation = await rotationScenario(first, email, password);
  results.memory.afterRotation = serviceRssMb(first).mainMb;
  results.loginRow = await cannonScenario('POST /auth/login (argon2id)', first, {
    path: '/auth/login',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    connections: CONFIG.loginConcurrency,
    durationS: CONFIG.loginS,
  });
  results.memory.after = serviceRssMb(first).mainMb;

  // --- instance 2: same database, same DATA_DIR (keys, secrets) -----------------------------------
  const second = await startService('instance 2', common);
  results.revocation = await revocationScenario(first, second, email, password);
  await stopService(second);
  await stopService(first);

  // --- WEB_CONCURRENCY=2 ---------------------------------------------------------------------------
  const remainingS = (CONFIG.deadlineMs - (Date.now() - startedAt)) / 1000;
  const neededS = 2 * (CONFIG.warmupS + CONFIG.durationS) + 15;
  if (CONFIG.skipCluster) {
    results.cluster = { skipped: 'BENCH_SKIP_CLUSTER=1' };
  } else if (remainingS < neededS) {
    results.cluster = { skipped: `not enough time left (${remainingS.toFixed(0)} s < ${neededS} s)` };
    log(`skipping WEB_CONCURRENCY=${CONFIG.clusterWorkers}: ${results.cluster.skipped}`);
  } else {
    const cluster = await startService(`WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, {
      ...common,
      extraEnv: { WEB_CONCURRENCY: String(CONFIG.clusterWorkers) },
      listeners: CONFIG.clusterWorkers,
    });
    const client = httpClient(cluster.port, 1);
    let token;
    try {
      ({ accessToken: token } = await login(client, email, password));
    } finally {
      client.close();
    }
    results.cluster = {};
    results.cluster.live = await cannonScenario(`GET /health/live, WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, cluster, { path: '/health/live' });
    results.cluster.claims = await cannonScenario(`GET /auth/claims, WEB_CONCURRENCY=${CONFIG.clusterWorkers}`, cluster, {
      path: '/auth/claims',
      headers: { authorization: `Bearer ${token}` },
    });
    results.cluster.memory = serviceRssMb(cluster);
    await stopService(cluster);
  }
  for (const service of [first, second]) if (service.warnings) log(`${service.name} logged ${service.warnings} warn/error lines; last: ${service.tail.at(-1)}`);
  results.loadAfter = os.loadavg()[0].toFixed(2);
}

const results = { machine: machine(), date: new Date().toISOString(), database: '?', databaseVersion: '', loadBefore: '?', loadAfter: '?' };
let abort;
const aborted = new Promise((_, reject) => {
  abort = reject;
});
const watchdog = setTimeout(() => abort(new Error(`the run exceeded ${CONFIG.deadlineMs / 1000} s`)), CONFIG.deadlineMs);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => abort(new Error(`interrupted by ${signal}`)));

let failed = false;
try {
  await Promise.race([main(results), aborted]);
} catch (error) {
  failed = true;
  problems.push(`the run failed: ${error?.message ?? error}`);
  log(`FAILED: ${error?.stack ?? error}`);
} finally {
  clearTimeout(watchdog);
  log('cleaning up');
  await runCleanups();
}
if (results.loadAfter === '?') results.loadAfter = os.loadavg()[0].toFixed(2);
try {
  process.stdout.write(`${report(results)}\n`);
} catch (error) {
  failed = true;
  log(`could not write the report: ${error?.stack ?? error}`);
}
if (failed || problems.length) {
  log(`exit 1: ${failed ? 'the run failed' : `${problems.length} problem(s)`}`);
  process.exit(1);
}
log(`done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
process.exit(0);
