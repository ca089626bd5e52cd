import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { loadConfiguration } from './config/configuration.js';
import { openDatabaseServer } from './database/database-server.js';
import { migrateDatabase } from './database/migrate.js';

async function bootstrap(): Promise<void> {
  const configuration = loadConfiguration();
  const logger = new Logger('Bootstrap');
  const database = await openDatabaseServer(configuration);
  if (database.embedded) logger.log(`embedded PostgreSQL at ${database.url} (data in ${configuration.dataDir}/pg)`);
  if (configuration.database.migrateOnStart) {
    const applied = await migrateDatabase(database.url);
    if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`);
  }
  const app = await createApp(configuration, database.url);
  // SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool, then the embedded server.
  const shutdown = async (signal: NodeJS.Signals) => {
    logger.log(`${signal}: draining`);
    await app.close();
    await database.stop();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
  await app.listen(configuration.http.port, configuration.http.host);
  logger.log(`listening on http://${configuration.http.host}:${configuration.http.port} (docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  // A configuration error is a message for the operator, not a stack trace.
  console.error(error instanceof Error && error.name === 'ConfigurationError' ? error.message : error);
  process.exit(1);
});
