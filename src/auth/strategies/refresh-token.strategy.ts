import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import type { AuthRequest } from '../authenticated-request.js';
import { AuthSettings } from '../options/auth-settings.js';
import { REFRESH_TOKEN_STRATEGY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { RefreshCookie } from '../refresh-cookie.js';
import { REFRESH_TOKEN_MAX_LENGTH } from '../dto/refresh-token.dto.js';
import { assertSafeBody } from '../validation.pipe.js';

/** A refresh token as presented, not yet checked against the database. */
export interface RefreshTokenCredential {
  refreshToken: string;
}

/**
 * Takes the refresh token from the JSON body or the cookie. A cookie-only request must prove it is
 * not a cross-site form post: an X-Requested-With header, and an Origin (when sent) we allow.
 */
@Injectable()
export class RefreshTokenStrategy extends PassportStrategy(Strategy, REFRESH_TOKEN_STRATEGY) {
  private readonly allowedOrigins: Set<string>;

  constructor(
    private readonly cookie: RefreshCookie,
    settings: AuthSettings,
  ) {
    super();
    this.allowedOrigins = new Set(settings.allowedOrigins);
  }

  validate(request: AuthRequest): RefreshTokenCredential {
    const bodyToken = refreshTokenOf(request.body);
    const cookieToken = this.cookie.read(request);
    if (bodyToken && cookieToken && bodyToken !== cookieToken) throw new AuthError(AuthErrorCode.RefreshTokenConflict);
    if (bodyToken) return { refreshToken: bodyToken };
    if (!cookieToken) throw new AuthError(AuthErrorCode.RefreshTokenInvalid, { reason: 'no refresh token' });
    this.assertNotCrossSite(request);
    return { refreshToken: cookieToken };
  }

  private assertNotCrossSite(request: AuthRequest): void {
    if (request.headers['x-requested-with'] === undefined) {
      throw new AuthError(AuthErrorCode.CsrfRejected, { reason: 'cookie without X-Requested-With' });
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin) && !isSameOrigin(origin, request)) {
      throw new AuthError(AuthErrorCode.CsrfRejected, { reason: `origin ${origin} not allowed` });
    }
  }
}

/**
 * The body's refresh token, checked as RefreshTokenDto says (the routes taking it skip the ValidationPipe:
 * on the hottest route of the service, class-transformer and class-validator cost more than the rest).
 */
function refreshTokenOf(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) refuse(['the body must be a JSON object']);
  assertSafeBody(body);
  const problems = Object.keys(body)
    .filter((key) => key !== 'refreshToken')
    .map((key) => `property ${key} should not exist`);
  const token = (body as { refreshToken?: unknown }).refreshToken;
  if (token !== undefined && typeof token !== 'string') problems.push('refreshToken must be a string');
  if (typeof token === 'string' && token.length > REFRESH_TOKEN_MAX_LENGTH) {
    problems.push(`refreshToken must be shorter than or equal to ${REFRESH_TOKEN_MAX_LENGTH} characters`);
  }
  if (problems.length > 0) refuse(problems);
  return token as string | undefined;
}

function refuse(details: string[]): never {
  throw new AuthError(AuthErrorCode.ValidationFailed, { details });
}

function isSameOrigin(origin: string, request: AuthRequest): boolean {
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
