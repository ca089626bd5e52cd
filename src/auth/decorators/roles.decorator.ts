import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ROLES_KEY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { ApiErrors } from './api-errors.decorator.js';
import { Authenticated } from './authenticated.decorator.js';

/**
 * Limits a route or controller to callers whose access token carries at least one of these roles
 * (`403 forbidden` otherwise). Implies @Authenticated(), and documents both.
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), Authenticated(), ApiErrors(AuthErrorCode.Forbidden));
