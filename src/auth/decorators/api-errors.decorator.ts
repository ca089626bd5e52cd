import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorDto } from '../dto/error.dto.js';
import { AUTH_ERROR_STATUS, type AuthErrorCode } from '../errors/auth-error-code.js';

/** Documents the error codes a route can answer with, grouped by their HTTP status. */
export const ApiErrors = (...codes: AuthErrorCode[]): MethodDecorator & ClassDecorator => {
  const byStatus = new Map<number, AuthErrorCode[]>();
  for (const code of codes) byStatus.set(AUTH_ERROR_STATUS[code], [...(byStatus.get(AUTH_ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, group]) => ApiResponse({ status, type: ErrorDto, description: `code: ${group.join(' | ')}` })),
  );
};
