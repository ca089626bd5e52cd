import { type INestApplication, Module, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { AuthModule, type AuthModuleOptions } from '../../src/auth/index.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';

/**
 * A team's app as MODULE.md shows one, on the test database and TEST_HTTP_ADAPTER: the package's
 * module with fresh HS256 secrets and `options` on top, and the spec's own controllers and providers.
 */
export async function startHostApp(
  options: Partial<AuthModuleOptions> = {},
  own: { controllers?: Type[]; providers?: Provider[] } = {},
): Promise<INestApplication> {
  @Module({
    imports: [
      TypeOrmModule.forRoot(buildDataSourceOptions(process.env.TEST_DATABASE_URL!, 4)),
      AuthModule.forRoot({
        jwtAlgorithm: 'HS256',
        jwtSecret: randomBytes(32).toString('base64url'),
        refreshTokenSecret: randomBytes(32).toString('base64url'),
        cookieSecure: false,
        rateLimit: false,
        ...options,
      }),
    ],
    controllers: own.controllers ?? [],
    providers: own.providers ?? [],
  })
  class HostModule {}

  const adapter = process.env.TEST_HTTP_ADAPTER === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(HostModule, adapter, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return app;
}
