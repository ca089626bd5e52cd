import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { REFRESH_TOKEN_STRATEGY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import type { RefreshTokenCredential } from '../strategies/refresh-token.strategy.js';

/** Demands a refresh token in the body or the cookie (with the cookie's CSRF checks). */
@Injectable()
export class RefreshTokenGuard extends AuthGuard(REFRESH_TOKEN_STRATEGY) {
  override handleRequest<TUser = RefreshTokenCredential>(error: unknown, user: TUser | false): TUser {
    if (error) throw error;
    if (!user) throw new AuthError(AuthErrorCode.RefreshTokenInvalid);
    return user;
  }
}
