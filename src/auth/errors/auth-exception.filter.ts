import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthRequest } from '../authenticated-request.js';
import { requestIdOf } from '../client-info.js';
import { AUTH_ERROR_MESSAGE, AUTH_ERROR_STATUS, AuthErrorCode } from './auth-error-code.js';
import { AuthError } from './auth-error.js';
import { isDatabaseUnavailable } from './database-unavailable.js';

/** The JSON body of every error. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: AuthErrorCode;
  details?: string[];
}

const CODE_BY_STATUS: Record<number, AuthErrorCode> = {
  400: AuthErrorCode.ValidationFailed,
  401: AuthErrorCode.TokenInvalid,
  403: AuthErrorCode.Forbidden,
  404: AuthErrorCode.NotFound,
  405: AuthErrorCode.MethodNotAllowed,
  413: AuthErrorCode.PayloadTooLarge,
  415: AuthErrorCode.UnsupportedMediaType,
  429: AuthErrorCode.RateLimited,
  503: AuthErrorCode.ServiceUnavailable,
};

/**
 * Maps every failure to `{statusCode, error, message, code}`. The only place that knows HTTP statuses
 * for domain errors; internals (stack, SQL, hashes, tokens) go to the log, never to the client.
 * The package binds it to its own controllers; a host may bind it globally to answer everything so.
 * Works on every HTTP adapter.
 */
@Catch()
@Injectable()
export class AuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse();
    const request = host.switchToHttp().getRequest<AuthRequest>();
    const requestId = requestIdOf(request);
    // The request id ties the log line to the response the client got (its X-Request-Id).
    const where = `${http.getRequestMethod(request)} ${http.getRequestUrl(request)}${requestId ? ` (request ${requestId})` : ''}`;
    const { code, status, details, bearer, retryAfter } = this.classify(exception, where);
    if (bearer) http.setHeader(response, 'WWW-Authenticate', 'Bearer error="invalid_token"');
    if (retryAfter !== undefined) http.setHeader(response, 'Retry-After', String(retryAfter));
    else if (status === 503) http.setHeader(response, 'Retry-After', '5');
    http.setHeader(response, 'Cache-Control', 'no-store');
    http.reply(response, errorBody(code, status, details), status);
  }

  private classify(
    exception: unknown,
    where: string,
  ): { code: AuthErrorCode; status: number; details?: string[]; bearer?: boolean; retryAfter?: number } {
    if (exception instanceof AuthError) {
      if (exception.options.reason) this.logger.debug(`${where}: ${exception.code} (${exception.options.reason})`);
      return {
        code: exception.code,
        status: AUTH_ERROR_STATUS[exception.code],
        details: exception.options.details,
        bearer: exception.options.bearer,
        retryAfter: exception.options.retryAfter,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status];
      if (code) return { code, status, details: this.validationDetails(exception, status) };
      if (status < 500) return { code: AuthErrorCode.ValidationFailed, status };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`${where}: database unavailable (${(exception as Error).message})`);
      return { code: AuthErrorCode.ServiceUnavailable, status: 503 };
    }
    this.logger.error(`${where}: unexpected error`, (exception as Error)?.stack ?? String(exception));
    return { code: AuthErrorCode.InternalError, status: 500 };
  }

  /** class-validator messages name the field and rule only; they are safe to return. */
  private validationDetails(exception: HttpException, status: number): string[] | undefined {
    if (status !== 400) return undefined;
    const response = exception.getResponse();
    const message = typeof response === 'object' && response ? (response as { message?: unknown }).message : undefined;
    if (Array.isArray(message)) return message.filter((item): item is string => typeof item === 'string');
    return undefined;
  }
}

/** The package's own errors on a host's routes (the global guard's 401s and 403s); the host's keep its shape. */
@Catch(AuthError)
@Injectable()
export class AuthErrorFilter extends AuthExceptionFilter {}

/** The body the filter answers a code with (also the documented example of each code). */
export function errorBody(code: AuthErrorCode, status: number, details?: string[]): ErrorBody {
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message: AUTH_ERROR_MESSAGE[code],
    code,
    ...(details?.length ? { details } : {}),
  };
}

/**
 * Fastify's `frameworkErrors`. Its router refuses a malformed URL (`%ZZ`) before any hook or filter runs,
 * and would answer in its own shape (`code: "FST_ERR_BAD_URL"`, the URL echoed, no nosniff); this
 * answers in the contract's.
 */
export function answerFrameworkError(error: { statusCode?: number }, request: AuthRequest, reply: { raw: ServerResponse; hijack(): unknown }): void {
  const code = (error.statusCode ?? 500) < 500 ? AuthErrorCode.ValidationFailed : AuthErrorCode.InternalError;
  const status = AUTH_ERROR_STATUS[code];
  const body = JSON.stringify(errorBody(code, status));
  // On the raw response, as answerClientError on the socket: the package needs none of Fastify's types.
  reply.hijack();
  reply.raw.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // No hook runs for these: the id the host gave the request (Fastify's genReqId) is echoed here.
    ...(requestIdOf(request) ? { 'X-Request-Id': requestIdOf(request)! } : {}),
  });
  reply.raw.end(body);
}

/**
 * Fastify's `clientErrorHandler`. Node's HTTP parser refuses some requests (headers over 16 KiB, a
 * malformed request line, headers that never finish) before Fastify has a request, so the filter never
 * sees them; this answers them in the same shape, where Fastify's default would leave out `code`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // The client is already gone.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? AuthErrorCode.HeadersTooLarge
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? AuthErrorCode.RequestTimeout
        : AuthErrorCode.ValidationFailed;
  const status = AUTH_ERROR_STATUS[code];
  const body = JSON.stringify(errorBody(code, status));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
