import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const result = await work();
  return [result, Date.now() - started];
}

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
    expect(first.url).toBe(`postgres://postgres@127.0.0.1:${first.port}/auth`);

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
    const [, secondStopMs] = await timed(() => first.stop());
    expect(secondStopMs).toBeLessThan(100);

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
    const [, staleStopMs] = await timed(() => stale.stop());
    expect(staleStopMs).toBeLessThan(100);

    const fresh = await connect(replacement.url);
    try {
      expect((await fresh.query('SELECT note FROM marker')).rows).toEqual([{ note: 'kept' }]);
    } finally {
      await fresh.end();
    }
    await replacement.stop();
  }, 120_000);
});
