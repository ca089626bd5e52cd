import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp } from './support/test-app.js';
import { uniqueEmail } from './support/users.js';
import { freePort } from './support/service-process.js';

// .ci/run starts a Redis and sets this; in CI its absence is a failure, elsewhere these tests are skipped.
const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL && process.env.CI) throw new Error('TEST_REDIS_URL is not set: the Redis rate-limit tests need a Redis (see .ci/run)');
const describeWithRedis = REDIS_URL ? describe : describe.skip;

// Each phase speaks from a loopback address of its own (Linux routes all of 127/8 to lo), so its
// per-address counters start at zero in a Redis that other runs share, with no TRUST_PROXY needed.
const freshLoopback = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;


/** A wrong-password login on a connection of its own, so the cluster hands each to the next worker. */
function failedLogin(port: number, localAddress: string): Promise<number> {
  const body = JSON.stringify({ email: uniqueEmail('redis'), password: 'wrong password' });
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path: '/auth/login', method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json' } },
      (response) => response.resume().on('end', () => resolve(response.statusCode!)),
    );
    request.on('error', reject).end(body);
  });
}

async function loginBurst(port: number, count: number): Promise<number[]> {
  const address = freshLoopback();
  const statuses: number[] = [];
  for (let attempt = 0; attempt < count; attempt++) statuses.push(await failedLogin(port, address));
  return statuses;
}

const countOf = (statuses: number[], status: number) => statuses.filter((each) => each === status).length;

async function until(condition: () => boolean, what: string, seconds = 10): Promise<void> {
  for (let waited = 0; waited < seconds * 1000 && !condition(); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!condition()) throw new Error(`gave up waiting for ${what}`);
}

describeWithRedis('rate limits shared through Redis (REDIS_URL)', () => {
  let proxy: TcpProxy;
  let service: ChildProcess;
  let output = '';
  let port: number;
  const occurrences = (text: string) => output.split(text).length - 1;

  beforeAll(async () => {
    // Redis behind a proxy the test can cut, as a network failure would.
    const redis = new URL(REDIS_URL!);
    proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.start();
    redis.port = String(proxy.port);
    port = await freePort();
    service = spawn(process.execPath, ['dist/main.js'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: process.env.TEST_DATABASE_URL,
        DATA_DIR: process.env.TEST_DATA_DIR,
        DB_MIGRATE_ON_START: 'false',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        WEB_CONCURRENCY: '2',
        REDIS_URL: redis.toString(),
      },
    });
    service.stdout!.on('data', (chunk) => (output += chunk));
    service.stderr!.on('data', (chunk) => (output += chunk));
    await until(() => occurrences('listening on http://') === 2, 'both workers to listen', 30).catch((error: Error) => {
      throw new Error(`${error.message}; the service said:\n${output}`);
    });
  }, 60_000);

  afterAll(async () => {
    if (service?.exitCode === null) {
      service.kill('SIGTERM');
      await once(service, 'exit');
    }
    await proxy?.stop();
  });

  it('refuses the 31st login a minute from one address, however the workers share the requests', async () => {
    const statuses = await loginBurst(port, 40);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(10).fill(429));
  }, 60_000);

  it('counts in each worker while Redis is unreachable, logging it once, and shares again when it returns', async () => {
    await proxy.cut();
    await until(() => occurrences('Redis unreachable') === 2, 'both workers to log the fallback');
    // Each worker counts its own 30: more get through than the shared limit, but the limit still holds.
    const alone = await loginBurst(port, 70);
    expect(countOf(alone, 401)).toBeGreaterThan(30);
    expect(countOf(alone, 401)).toBeLessThanOrEqual(60);
    expect(countOf(alone, 429)).toBe(70 - countOf(alone, 401));
    expect(occurrences('Redis unreachable')).toBe(2);

    await proxy.restore();
    await until(() => occurrences('Redis answers again') === 2, 'both workers to log that Redis is back');
    const shared = await loginBurst(port, 40);
    expect(shared.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(shared.slice(30)).toEqual(Array(10).fill(429));
  }, 60_000);
});

describeWithRedis('the Redis rate-limit storage in the app', () => {
  it('closes its Redis connection when the app shuts down', async () => {
    const redis = new URL(REDIS_URL!);
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.start();
    redis.port = String(proxy.port);
    try {
      const app = await startTestApp({ RATE_LIMIT: 'on', REDIS_URL: redis.toString() });
      const login = await app.request('POST', '/auth/login', { body: { email: uniqueEmail('closing'), password: 'wrong password' } });
      expect(login.status).toBe(401);
      expect(proxy.openSockets).toBeGreaterThan(0);
      await app.close();
      await until(() => proxy.openSockets === 0, 'the Redis connection to close');
    } finally {
      await proxy.stop();
    }
  });
});
