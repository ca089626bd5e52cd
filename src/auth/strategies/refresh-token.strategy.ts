import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import type { AuthRequest } from '../authenticated-request.js';
import { AuthSettings } from '../options/auth-settings.js';
import { REFRESH_TOKEN_STRATEGY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { RefreshCookie } from '../refresh-cookie.js';
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
    // Guards run before the ValidationPipe, so a body that is JSON but not an object (null, [], 42) is refused here.
    const body: unknown = request.body;
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw new AuthError(AuthErrorCode.ValidationFailed, { details: ['the body must be a JSON object'] });
    }
    assertSafeBody(body);
    const bodyToken = (body as { refreshToken?: unknown } | undefined)?.refreshToken;
    if (bodyToken !== undefined && typeof bodyToken !== 'string') {
      throw new AuthError(AuthErrorCode.ValidationFailed, { details: ['refreshToken must be a string'] });
    }
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

function isSameOrigin(origin: string, request: AuthRequest): boolean {
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
