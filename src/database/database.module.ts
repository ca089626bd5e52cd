import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Configuration } from '../config/configuration.js';
import { buildDataSourceOptions } from './data-source-options.js';

/** The TypeORM connection pool, on the URL the bootstrap resolved (DATABASE_URL or the embedded server). */
@Module({})
export class DatabaseModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<Configuration, true>) =>
            buildDataSourceOptions(url, config.get('database', { infer: true }).poolSize),
        }),
      ],
    };
  }
}
