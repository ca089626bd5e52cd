import { join } from 'node:path';
import type { Configuration } from '../config/configuration.js';

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
    onLog,
  });
  return { url: server.url, embedded: true, stop: () => server.stop() };
}
