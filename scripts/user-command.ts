// What `npm run user:create` and `npm run user:roles` share: the service's own app (no HTTP listener)
// on the service's database, its AdminService, a one-line answer and the exit code.
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module.js';
import { AdminService, AuthError, AuthErrorCode } from '../src/auth/index.js';
import { loadConfiguration } from '../src/config/configuration.js';
import { type DatabaseServer, openDatabaseServerForTool } from '../src/database/database-server.js';
import { migrateDatabase } from '../src/database/migrate.js';

/** 0 done; 1 refused (taken email, bad password, unknown user, no database); 2 a wrong command line. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** Prints what is wrong with the command line, and how to call it. */
export function usageError(problem: string, usage: string): number {
  process.stderr.write(`${problem}\n${usage}\n`);
  return EXIT.usage;
}

/**
 * Runs `task` with the AdminService of the service's app, over DATABASE_URL or the embedded development
 * server (joined while the service runs it), migrated first as the service would be. Prints the line
 * `task` answers, or why it failed; resolves the exit code.
 */
export async function withAdminService(task: (admin: AdminService) => Promise<string>): Promise<number> {
  let database: DatabaseServer | undefined;
  let app: INestApplicationContext | undefined;
  try {
    const configuration = loadConfiguration();
    database = await openDatabaseServerForTool(configuration);
    if (configuration.database.migrateOnStart) await migrateDatabase(database.url);
    // No logger: the one line below is the whole output; failures are thrown and printed there.
    app = await NestFactory.createApplicationContext(AppModule.forRoot(configuration, database.url), { logger: false, abortOnError: false });
    process.stdout.write(`${await task(app.get(AdminService))}\n`);
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`${describe(error)}\n`);
    return EXIT.refused;
  } finally {
    // Closing flushes the audit writer: the events of this command are in auth_events before the exit.
    await app?.close().catch((error: unknown) => process.stderr.write(`closing failed: ${describe(error)}\n`));
    await database?.stop();
  }
}

function describe(error: unknown): string {
  if (error instanceof AuthError && error.code === AuthErrorCode.ValidationFailed) return error.options.details?.join('; ') ?? error.message;
  return error instanceof Error ? error.message : String(error);
}
