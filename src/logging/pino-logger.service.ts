import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, type Logger, pino } from 'pino';
import { type AuthEvent, AuthEvents } from '../auth/index.js';

/** One pino logger for Fastify's request log and Nest's own messages; credentials are redacted. Standard output unless `destination`. */
export function createPinoLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Nest's LoggerService on top of pino. A security event (AuthEvents logs each as a JSON message)
 * becomes fields of the line, `{ requestId, event }`, so that a search by request id or event type
 * needs no second parse; the message is the event's type.
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    const event = context === AuthEvents.name ? eventOf(message) : undefined;
    if (event) this.logger.info({ context, requestId: event.requestId ?? undefined, event }, event.type);
    else this.logger.info({ context }, String(message));
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

function eventOf(message: unknown): AuthEvent | undefined {
  if (typeof message !== 'string' || !message.startsWith('{')) return undefined;
  try {
    return JSON.parse(message) as AuthEvent;
  } catch {
    return undefined;
  }
}
