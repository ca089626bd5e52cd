import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { RefreshTokenEntity } from '../auth/sessions/refresh-token.entity.js';
import { SessionEntity } from '../auth/sessions/session.entity.js';
import { UserEntity } from '../users/user.entity.js';

/** The one description of the database, used by the app, the tests and the TypeORM CLI (ormconfig.ts). */
export function buildDataSourceOptions(url: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [UserEntity, SessionEntity, RefreshTokenEntity],
    migrations,
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
