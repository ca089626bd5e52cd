import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, type Logger, pino } from 'pino';
import { requestContext } from './request-context.js';

/**
 * One pino logger for Fastify's request log and Nest's own messages; credentials are redacted, and a
 * line written while a request is handled carries its `requestId`. Standard output unless `destination`.
 */
export function createPinoLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
    mixin: requestIdOfLine,
  };
  return destination ? pino(options, destination) : pino(options);
}

function requestIdOfLine(): { requestId?: string } {
  const requestId = requestContext.getStore();
  return requestId === undefined ? {} : { requestId };
}

/** Nest's LoggerService on top of pino. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
