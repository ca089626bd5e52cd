import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule, RedisRateLimitStorage } from './auth/index.js';
import type { Configuration } from './config/configuration.js';
import { withDevelopmentSecrets } from './config/development-secret.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';

@Module({})
export class AppModule {
  /** The whole service: the auth module on the service's database, configured from the environment. */
  static forRoot(configuration: Configuration, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DatabaseModule.forRoot(databaseUrl, configuration.database.poolSize),
        AuthModule.forRootAsync({
          useFactory: () => withDevelopmentSecrets(configuration),
          // REDIS_URL: every worker and instance counts together; unset, each process in memory.
          rateLimitStorage:
            configuration.redisUrl && configuration.auth.rateLimit !== false ? RedisRateLimitStorage.forUrl(configuration.redisUrl) : undefined,
        }),
        HealthModule,
        ...(configuration.metrics ? [MetricsModule] : []),
      ],
    };
  }
}
