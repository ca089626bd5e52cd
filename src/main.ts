import 'reflect-metadata';
import cluster from 'node:cluster';
import { createApp } from './app.factory.js';
import { type Configuration, loadConfiguration } from './config/configuration.js';
import { type DatabaseServer, openDatabaseServer, redactDatabaseUrl } from './database/database-server.js';
import { migrateDatabase } from './database/migrate.js';
import { createPinoLogger } from './logging/pino-logger.service.js';

// Bootstrap messages at info, whatever LOG_LEVEL says about requests; the process's own life is worth a line.
const logger = createPinoLogger('info').child({ context: 'Bootstrap' });

/** The primary resolves the database (starting the embedded one if needed) and migrates it, once. */
async function prepareDatabase(configuration: Configuration): Promise<DatabaseServer> {
  const database = await openDatabaseServer(configuration);
  if (database.embedded) logger.info(`embedded PostgreSQL at ${redactDatabaseUrl(database.url)} (data in ${configuration.dataDir}/pg)`);
  if (configuration.database.migrateOnStart) {
    const applied = await migrateDatabase(database.url);
    if (applied.length) logger.info(`applied migrations: ${applied.join(', ')}`);
  }
  return database;
}

/** Serves HTTP until SIGTERM/SIGINT, then stops accepting, finishes in-flight requests and exits 0. */
async function serve(configuration: Configuration, databaseUrl: string, onClosed: () => Promise<void>): Promise<void> {
  const app = await createApp(configuration, databaseUrl);
  const shutdown = async (signal: NodeJS.Signals) => {
    logger.info(`${signal}: draining`);
    await app.close();
    await onClosed();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
  await app.listen(configuration.http.port, configuration.http.host);
  logger.info(`listening on http://${configuration.http.host}:${configuration.http.port} (docs at /docs)`);
}

/** WEB_CONCURRENCY > 1: N workers share the port (node:cluster); each has its own pool and revocation feed. */
function superviseWorkers(count: number, database: DatabaseServer): void {
  let stopping = false;
  const fork = () => cluster.fork({ DATABASE_URL: database.url, DB_MIGRATE_ON_START: 'false' });
  for (let index = 0; index < count; index++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn(`worker ${worker.process.pid} died (${signal ?? code}); starting another`);
    fork();
  });
  const stop = async (signal: NodeJS.Signals) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    await Promise.all(
      workers.map((worker) => new Promise((resolve) => worker?.once('exit', resolve).process.kill(signal))),
    );
    await database.stop();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
  logger.info(`started ${count} workers`);
}

async function bootstrap(): Promise<void> {
  const configuration = loadConfiguration();
  if (cluster.isWorker) return serve(configuration, configuration.database.url!, async () => {});
  const database = await prepareDatabase(configuration);
  if (configuration.http.webConcurrency > 1) return superviseWorkers(configuration.http.webConcurrency, database);
  return serve(configuration, database.url, () => database.stop());
}

bootstrap().catch((error: unknown) => {
  // A configuration error is a message for the operator, not a stack trace.
  console.error(error instanceof Error && error.name === 'ConfigurationError' ? error.message : error);
  process.exit(1);
});
