import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { AuthErrorCode } from './auth/errors/auth-error-code.js';
import { AuthError } from './auth/errors/auth-error.js';
import { answerClientError, AuthExceptionFilter } from './auth/errors/auth-exception.filter.js';
import type { Configuration } from './config/configuration.js';
import { createPinoLogger, PinoLoggerService } from './logging/pino-logger.service.js';
import { setUpSwagger } from './swagger.js';

// Our JSON bodies are a few hundred bytes; anything near this is abuse.
const BODY_LIMIT = 16 * 1024;

/**
 * JSON is the only body we take; any other content type is 415. Routes such as logout-all take no body,
 * yet many clients send `Content-Type: application/json` with an empty one, which Fastify would refuse:
 * an empty body is no body. Anything else goes through Fastify's parser, which refuses prototype poisoning.
 */
function acceptJsonBodiesOnly(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  );
}

/** Builds the service (not yet listening): used by main.ts and by every e2e test. */
export async function createApp(configuration: Configuration, databaseUrl: string): Promise<NestFastifyApplication> {
  const logger = createPinoLogger(configuration.http.logLevel);
  const adapter = new FastifyAdapter({
    // Fastify logs every request at info; only at debug and below are they worth their cost.
    loggerInstance: logger.child({}, { level: logger.isLevelEnabled('debug') ? logger.level : 'warn' }),
    bodyLimit: BODY_LIMIT,
    trustProxy: configuration.http.trustProxy,
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(configuration, databaseUrl), adapter, {
    logger: new PinoLoggerService(logger),
    // JSON only, through acceptJsonBodiesOnly(); any other content type is 415.
    bodyParser: false,
  });
  await app.register(fastifyCookie);
  // Counters only; RateLimitGuard decides which routes count. The cache bounds memory under address churn.
  await app.register(fastifyRateLimit, { global: false, cache: 100_000 });
  acceptJsonBodiesOnly(app);
  app.enableCors({
    origin: configuration.http.corsOrigins,
    credentials: true,
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
  });
  app.useGlobalFilters(new AuthExceptionFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) =>
        new AuthError(AuthErrorCode.ValidationFailed, {
          details: errors.flatMap((error) => Object.values(error.constraints ?? { [error.property]: `${error.property} is invalid` })),
        }),
    }),
  );
  setUpSwagger(app);
  return app;
}
