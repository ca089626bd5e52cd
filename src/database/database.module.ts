import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions } from './data-source-options.js';

/** The TypeORM connection pool, on the URL the bootstrap resolved (DATABASE_URL or the embedded server). */
@Module({})
export class DatabaseModule {
  static forRoot(url: string, poolSize: number): DynamicModule {
    return { module: DatabaseModule, imports: [TypeOrmModule.forRoot(buildDataSourceOptions(url, poolSize))] };
  }
}
