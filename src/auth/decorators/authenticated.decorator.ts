import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { BEARER_SECURITY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { JwtAuthGuard } from '../guards/jwt-auth.guard.js';
import { ApiErrors } from './api-errors.decorator.js';

/**
 * Demands a Bearer access token on a route or controller, whatever the module's `globalGuard` says,
 * and documents it (security scheme, 401) in the same stroke, so the two cannot drift.
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    UseGuards(JwtAuthGuard),
    ApiBearerAuth(BEARER_SECURITY),
    ApiErrors(AuthErrorCode.TokenInvalid, AuthErrorCode.TokenExpired, AuthErrorCode.SessionRevoked),
  );
