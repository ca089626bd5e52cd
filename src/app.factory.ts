import { type INestApplication, UnsupportedMediaTypeException } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module.js';
import { answerClientError, answerFrameworkError } from './auth/index.js';
import type { Configuration } from './config/configuration.js';
import { MethodNotAllowedFilter, routesOf } from './http/method-not-allowed.filter.js';
import { chooseRequestId } from './http/request-id.js';
import { useResponseHeaders } from './http/response-headers.js';
import { createPinoLogger, PinoLoggerService } from './logging/pino-logger.service.js';
import { useHttpMetrics } from './metrics/http-metrics.js';
import { HTTP_REQUEST_DURATION } from './metrics/metrics.module.js';
import { setUpSwagger } from './swagger.js';

// Our JSON bodies are a few hundred bytes; anything near this is abuse.
const BODY_LIMIT = 16 * 1024;

// A request whose headers or body are still arriving 10 s after it began is answered 408 (answerClientError)
// and closed. Node checks for that only every connectionsCheckingInterval, 30 s by default.
const SERVER_TIMEOUTS = { requestTimeout: 10_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 };

/**
 * Builds the service (not yet listening) on the configured HTTP adapter: used by main.ts and by
 * every e2e test. The auth module needs none of this; it is the service's own choice of answers
 * for what no route handles (bodies that are not JSON, unknown routes, malformed requests).
 * Logs go to standard output unless `logDestination`.
 */
export async function createApp(configuration: Configuration, databaseUrl: string, logDestination?: DestinationStream): Promise<INestApplication> {
  const logger = createPinoLogger(configuration.http.logLevel, logDestination);
  const module = AppModule.forRoot(configuration, databaseUrl);
  // abortOnError: false, so a start-up failure reaches main.ts as an error (a message, exit code 1).
  const options: AppOptions = { logger: new PinoLoggerService(logger), bodyParser: false, abortOnError: false };
  const app =
    configuration.http.adapter === 'express'
      ? await createExpressApp(module, options, configuration)
      : await createFastifyApp(module, options, configuration, logger);
  // Read by Node when the server starts listening, on either adapter.
  Object.assign(app.getHttpServer() as Server, SERVER_TIMEOUTS);
  const routes = routesOf(app);
  // With no other origin allowed there is nothing for CORS to answer (same-origin calls need none of it),
  // so no route pays for its request hook and its Vary/Allow-Credentials headers.
  if (configuration.http.corsOrigins.length) {
    app.enableCors({
      origin: configuration.http.corsOrigins,
      credentials: true,
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
    });
  }
  // Everything, not only the auth module's routes, answers in the contract's error shape (and 405 where due).
  app.useGlobalFilters(new MethodNotAllowedFilter(app.get(HttpAdapterHost), routes));
  setUpSwagger(app);
  return app;
}

type AppOptions = { logger: PinoLoggerService; bodyParser: false; abortOnError: false };

/** What every response gets, hooked in before any parser so that what a parser refuses gets it too. */
function usePerRequestPlumbing(app: INestApplication, configuration: Configuration): void {
  useResponseHeaders(app);
  if (configuration.metrics) useHttpMetrics(app, app.get(HTTP_REQUEST_DURATION));
}

async function createFastifyApp(module: ReturnType<typeof AppModule.forRoot>, options: AppOptions, configuration: Configuration, logger: Logger) {
  const logRequests = logger.isLevelEnabled('debug');
  const adapter = new FastifyAdapter({
    // Fastify logs every request at info; only at debug and below are they worth their cost. Above
    // that, no request pays for a child logger of its own, nor for the two log records Fastify builds
    // before the logger drops them: its rare warnings and errors about a request then come without
    // its (Fastify-internal) request id.
    loggerInstance: logger.child({}, { level: logRequests ? logger.level : 'warn' }),
    childLoggerFactory: logRequests ? undefined : <T>(parent: T) => parent,
    logController: new LogController({ disableRequestLogging: !logRequests }),
    bodyLimit: BODY_LIMIT,
    trustProxy: configuration.http.trustProxy,
    // Node's 16 KiB header limit bounds a URL already: a longer id is the route's own 404, as on Express.
    routerOptions: { maxParamLength: 16 * 1024 },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    // Fastify's own lines about a request (at debug) carry it as `reqId`.
    genReqId: chooseRequestId,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, options);
  usePerRequestPlumbing(app, configuration);
  // JSON is the only body we take; any other content type is 415. Many clients send
  // `Content-Type: application/json` with an empty body on routes that take none: that is no body.
  // Anything else goes through Fastify's parser, which refuses prototype poisoning.
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  );
  return app;
}

async function createExpressApp(module: ReturnType<typeof AppModule.forRoot>, options: AppOptions, configuration: Configuration) {
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(), options);
  usePerRequestPlumbing(app, configuration);
  app.set('trust proxy', configuration.http.trustProxy);
  app.set('x-powered-by', false);
  // Node's parser refuses some requests before Express sees them; answer them in our shape too.
  const server = app.getHttpServer() as Server;
  server.removeAllListeners('clientError');
  server.on('clientError', answerClientError);
  app.useBodyParser('json', { limit: BODY_LIMIT, strict: false });
  app.use(refuseNonJsonBodies);
  return app;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

// Express leaves bodies of other types unread; the contract answers them 415, as Fastify does.
function refuseNonJsonBodies(request: IncomingMessage, _response: unknown, next: (error?: unknown) => void): void {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  next(hasBody && !JSON_TYPE.test(request.headers['content-type'] ?? '') ? new UnsupportedMediaTypeException() : undefined);
}
