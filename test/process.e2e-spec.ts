import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/service-process.js';

/** The compiled service as a real process (`npm test` builds it first). */
function startService(env: Record<string, string>) {
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      DATA_DIR: process.env.TEST_DATA_DIR,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}


describe('the service process', () => {
  it('refuses to start on a bad value, naming the variable, without a stack trace', async () => {
    const service = startService({ ACCESS_TOKEN_TTL: 'soon', PORT: String(await freePort()) });
    expect(await service.exited).toBe(1);
    expect(service.output()).toContain('ACCESS_TOKEN_TTL');
    expect(service.output()).not.toMatch(/\n\s+at /);
  });

  it.each([['one process', '1'], ['WEB_CONCURRENCY=2 workers', '2']])(
    'serves as %s, then on SIGTERM stops listening and exits 0',
    async (_name, workers) => {
      const port = await freePort();
      const service = startService({ PORT: String(port), WEB_CONCURRENCY: workers, DB_MIGRATE_ON_START: 'false' });
      let status = 0;
      // Up to 40 s: two workers starting on a loaded 2-core machine can take a while to listen.
      for (let attempt = 0; attempt < 400 && status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await fetch(`http://127.0.0.1:${port}/health`).then((response) => response.status, () => 0);
      }
      expect(status).toBe(200);
      const burst = await Promise.all(Array.from({ length: 50 }, () => fetch(`http://127.0.0.1:${port}/health/live`)));
      expect(burst.every((response) => response.status === 200)).toBe(true);
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    },
    60_000,
  );

  it('gives every process that starts at once on a fresh data directory the same development secrets', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'secrets-race-'));
    const dataDir = path.join(root, 'data');
    // What the service does at start, in 12 processes at once: each prints the secrets it would use.
    const script = `
      import { loadConfiguration } from './dist/src/config/configuration.js';
      import { withDevelopmentSecrets } from './dist/src/config/development-secret.js';
      const options = withDevelopmentSecrets(loadConfiguration({ DATA_DIR: ${JSON.stringify(dataDir)}, JWT_ALGORITHM: 'HS256' }));
      console.log(JSON.stringify([options.refreshTokenSecret, options.jwtSecret]));`;
    try {
      const outputs = await Promise.all(
        Array.from({ length: 12 }, () => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]).then(({ stdout }) => stdout.trim())),
      );
      expect(new Set(outputs).size).toBe(1);
      const [refreshTokenSecret, jwtSecret] = JSON.parse(outputs[0]) as string[];
      expect(refreshTokenSecret.length).toBeGreaterThanOrEqual(32);
      expect(jwtSecret.length).toBeGreaterThanOrEqual(32);
      expect((await readdir(dataDir)).sort()).toEqual(['jwt-secret', 'refresh-token-secret']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
