// Runs in Jest's parent process, which does not transform TypeScript: it uses the build (`npm test` builds first).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../dist/src/database/embedded-postgres.js';
import { migrateDatabase } from '../../dist/src/database/migrate.js';

/**
 * TEST_DATABASE_URL when set (never DATABASE_URL, so a developer's database gets no test writes);
 * otherwise a throw-away embedded server in a temporary folder. Workers inherit the URL through env.
 */
export default async function globalSetup() {
  const scratch = await mkdtemp(join(tmpdir(), 'auth-test-'));
  process.env.TEST_DATA_DIR = join(scratch, 'data');
  if (!process.env.TEST_DATABASE_URL) {
    globalThis.embeddedTestPostgres = await startEmbeddedPostgres({
      dataDir: join(scratch, 'pg'),
      port: 0,
      database: 'auth_test',
      durable: false,
    });
    process.env.TEST_DATABASE_URL = globalThis.embeddedTestPostgres.url;
  }
  const url = process.env.TEST_DATABASE_URL;
  const name = new URL(url).pathname.slice(1);
  if (!/test/i.test(name)) throw new Error(`Refusing to run tests against database "${name}": its name must contain "test".`);
  await migrateDatabase(url);
}
