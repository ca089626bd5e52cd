import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import jsonwebtoken from 'jsonwebtoken';
import { IS_PUBLIC_KEY, JWT_STRATEGY } from '../auth.constants.js';
import type { AuthenticatedRequest } from '../authenticated-request.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import type { AuthPrincipal } from '../tokens/access-token.js';
import { requiredRoles } from './roles.guard.js';

// Set once a request's token has been verified, so a route guard after the global one does not verify again.
const VERIFIED = Symbol('auth:verified');

/**
 * Demands a valid Bearer access token unless the route is @Public(), then the roles of @Roles().
 * Global by default (the module's `globalGuard` extra). Extend it and override `isPublic` or
 * `handleRequest`; a subclass bound as APP_GUARD replaces the package's global guard.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(protected readonly reflector: Reflector) {
    super();
  }

  // Synchronous for public routes: the global guard runs on every request of the host's app.
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return this.isPublic(context) || this.authenticateAndAuthorize(context);
  }

  private async authenticateAndAuthorize(context: ExecutionContext): Promise<boolean> {
    await this.authenticate(context);
    const roles = requiredRoles(this.reflector, context);
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (roles && !user.roles.some((role) => roles.includes(role))) {
      throw new AuthError(AuthErrorCode.Forbidden, { reason: `needs one of ${roles.join(', ')}` });
    }
    return true;
  }

  /** Runs the JWT strategy whatever the route's metadata says; sets `request.user`. */
  async authenticate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { [VERIFIED]?: true }>();
    if (request[VERIFIED]) return true;
    await super.canActivate(context);
    request[VERIFIED] = true;
    return true;
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
