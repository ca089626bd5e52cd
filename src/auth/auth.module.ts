import { Module } from '@nestjs/common';
import { ConfigurableAuthModule } from './auth.module-definition.js';

/**
 * Login, rotating refresh-token families with reuse detection, revocation on every instance, and the
 * guard that demands a Bearer access token. `AuthModule.forRoot(options)` or
 * `AuthModule.forRootAsync({ useFactory, inject, imports })`, with the extras (`userStore`,
 * `passwordHasher`, `globalGuard`, `routes`, `rateLimitStorage`) beside the options or the factory.
 * Works over the host's TypeORM DataSource; add `authMigrations` to its migrations.
 */
@Module({})
export class AuthModule extends ConfigurableAuthModule {}
