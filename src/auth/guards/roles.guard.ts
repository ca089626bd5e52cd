import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ROLES_KEY } from '../auth.constants.js';
import type { AuthenticatedRequest } from '../authenticated-request.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';

/** The roles a route demands through @Roles(), or undefined when it demands none. */
export function requiredRoles(reflector: Reflector, context: ExecutionContext): string[] | undefined {
  const roles = reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]);
  return roles?.length ? roles : undefined;
}

/**
 * Allows a route marked @Roles(...) only to callers whose access token carries one of those roles.
 * JwtAuthGuard already checks roles; this is for a host whose own guard sets `request.user`.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = requiredRoles(this.reflector, context);
    if (!required) return true;
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (user?.roles.some((role) => required.includes(role))) return true;
    throw new AuthError(AuthErrorCode.Forbidden, { reason: `needs one of ${required.join(', ')}` });
  }
}
