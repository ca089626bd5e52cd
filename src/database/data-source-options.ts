import type { DataSourceOptions } from 'typeorm';
import { authMigrations } from '../auth/index.js';

/** The one description of the database, used by the app, the tests and the TypeORM CLI (ormconfig.ts). */
export function buildDataSourceOptions(url: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    // The auth module works through raw SQL on this DataSource: no entities to list.
    entities: [],
    migrations: authMigrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: {
      max: poolSize,
      // Fail fast (503) instead of queueing requests forever when the database is gone.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
      statement_timeout: 10000,
      application_name: 'auth-service',
    },
  };
}
