import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import jsonwebtoken from 'jsonwebtoken';
import { IS_PUBLIC_KEY, JWT_STRATEGY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import type { AuthPrincipal } from '../tokens/access-token.js';

/**
 * The global guard: every route needs a valid Bearer access token unless marked @Public().
 * Extend it and override `handleRequest` or `isPublic` to change what it accepts.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    return this.isPublic(context) || this.authenticate(context);
  }

  /** Runs the JWT strategy whatever the route's metadata says. */
  authenticate(context: ExecutionContext) {
    return super.canActivate(context);
  }

  protected isPublic(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) ?? false;
  }

  /** Maps passport's outcome to one stable code; the exact reason is logged, not sent. */
  override handleRequest<TUser = AuthPrincipal>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (error) throw error;
    if (user) return user;
    if (info instanceof AuthError) throw info;
    if (info instanceof jsonwebtoken.TokenExpiredError) throw new AuthError(AuthErrorCode.TokenExpired, { bearer: true });
    throw new AuthError(AuthErrorCode.TokenInvalid, { reason: info instanceof Error ? info.message : 'no token', bearer: true });
  }
}
