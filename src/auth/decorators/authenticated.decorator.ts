import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { BEARER_SECURITY } from '../auth.constants.js';
import { ErrorDto } from '../dto/error.dto.js';

/**
 * Documents a route as needing a Bearer access token. Enforcement is the global JwtAuthGuard's
 * (every route not marked @Public); this keeps the OpenAPI document saying the same.
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(BEARER_SECURITY),
    ApiUnauthorizedResponse({
      type: ErrorDto,
      description: 'token_invalid, token_expired or session_revoked; carries WWW-Authenticate: Bearer error="invalid_token"',
    }),
  );
