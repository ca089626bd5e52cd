import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Configuration } from '../config/configuration.js';

const EMBEDDED_DATABASE = 'auth';

/** Where the development embedded server keeps its data, and the password it accepts (mode 0600). */
function embeddedPaths(configuration: Configuration): { dataDir: string; passwordFile: string } {
  return { dataDir: join(configuration.dataDir, 'pg'), passwordFile: join(configuration.dataDir, 'pg-password') };
}

/** Where the development embedded server listens (for the TypeORM CLI, while `npm start` runs it), with its password. */
export function embeddedDatabaseUrl(configuration: Configuration): string {
  const { passwordFile } = embeddedPaths(configuration);
  let password: string;
  try {
    password = readFileSync(passwordFile, 'utf8').trim();
  } catch (error) {
    throw new Error(
      `No password for the embedded development PostgreSQL in ${passwordFile}: start the service once (npm start) to create it, or set DATABASE_URL.`,
      { cause: error },
    );
  }
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${configuration.database.embeddedPort}/${EMBEDDED_DATABASE}`;
}

/** The URL with its password masked, for log lines. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

/** The database the service talks to, and how to let go of it at shutdown. */
export interface DatabaseServer {
  /** With the password when there is one: log {@link redactDatabaseUrl} of it, never the URL itself. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise (development only) a real PostgreSQL run from npm-shipped binaries,
 * kept in <dataDir>/pg across restarts, accepting only the password generated into <dataDir>/pg-password.
 */
export async function openDatabaseServer(config: Configuration, onLog?: (line: string) => void): Promise<DatabaseServer> {
  if (config.database.url) return { url: config.database.url, embedded: false, stop: async () => {} };
  // Imported only when needed: production never loads it.
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
  const server = await startEmbeddedPostgres({
    ...embeddedPaths(config),
    port: config.database.embeddedPort,
    database: EMBEDDED_DATABASE,
    onLog,
  });
  return { url: server.url, embedded: true, stop: () => server.stop() };
}

/**
 * For command-line tools (`npm run user:create`): as {@link openDatabaseServer}, except that the embedded
 * server a running service holds is joined, never started again (starting it stops a live server on
 * the same data dir: the service's). `stop()` stops only a server the tool started itself.
 */
export async function openDatabaseServerForTool(config: Configuration): Promise<DatabaseServer> {
  if (!config.database.url) {
    const running = await runningEmbeddedUrl(config);
    if (running) return { url: running, embedded: true, stop: async () => {} };
  }
  return openDatabaseServer(config);
}

/** The embedded server's URL when it answers; undefined when it was never set up or nothing listens. */
async function runningEmbeddedUrl(config: Configuration): Promise<string | undefined> {
  let url: string;
  try {
    url = embeddedDatabaseUrl(config);
  } catch {
    return undefined;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return url;
  } catch (error) {
    // Anything but "nothing listens" means a server is there: better to fail than to stop it.
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return undefined;
    throw new Error(`The embedded PostgreSQL at ${redactDatabaseUrl(url)} is running but refused this tool: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
