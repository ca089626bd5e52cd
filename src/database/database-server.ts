import { join } from 'node:path';
import type { Configuration } from '../config/configuration.js';

const EMBEDDED_DATABASE = 'auth';

/** Where the development embedded server listens (for the TypeORM CLI, while `npm start` runs it). */
export function embeddedDatabaseUrl(configuration: Configuration): string {
  return `postgres://postgres@127.0.0.1:${configuration.database.embeddedPort}/${EMBEDDED_DATABASE}`;
}

/** The database the service talks to, and how to let go of it at shutdown. */
export interface DatabaseServer {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise (development only) a real PostgreSQL run from npm-shipped binaries,
 * kept in <dataDir>/pg across restarts.
 */
export async function openDatabaseServer(config: Configuration, onLog?: (line: string) => void): Promise<DatabaseServer> {
  if (config.database.url) return { url: config.database.url, embedded: false, stop: async () => {} };
  // Imported only when needed: production never loads it.
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
  const server = await startEmbeddedPostgres({
    dataDir: join(config.dataDir, 'pg'),
    port: config.database.embeddedPort,
    database: EMBEDDED_DATABASE,
    onLog,
  });
  return { url: server.url, embedded: true, stop: () => server.stop() };
}
