import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options.js';

// Any constant shared by every instance: they take turns migrating.
const MIGRATION_LOCK = 7_460_112_001;

/**
 * Applies pending migrations under a Postgres advisory lock, so several instances starting at once
 * migrate one after another instead of racing. Returns the names of the migrations applied.
 */
export async function migrateDatabase(url: string): Promise<string[]> {
  const dataSource = await new DataSource(buildDataSourceOptions(url, 2)).initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
    await dataSource.destroy();
  }
}
