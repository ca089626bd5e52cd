import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiSecurity, type HeaderObject } from '@nestjs/swagger';
import { REFRESH_COOKIE_SECURITY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { ApiErrors } from './api-errors.decorator.js';

/**
 * Documents a route that takes the refresh token from the refresh cookie: the cookie scheme, the
 * `X-Requested-With` header a cookie-only request needs, and the CSRF refusal.
 */
export const AcceptsRefreshCookie = (): MethodDecorator =>
  applyDecorators(
    ApiSecurity(REFRESH_COOKIE_SECURITY),
    ApiHeader({
      name: 'X-Requested-With',
      required: false,
      description: 'Any value; required when the refresh token comes only from the cookie (else 403 csrf_rejected)',
      schema: { type: 'string', example: 'fetch' },
    }),
    ApiErrors(AuthErrorCode.CsrfRejected),
  );

/** The `Set-Cookie` header of a response that sets or expires the refresh cookie. */
export const refreshCookieHeader = (what: 'sets' | 'expires'): Record<string, HeaderObject> => ({
  'Set-Cookie': {
    description:
      what === 'sets'
        ? 'The refresh token in the refresh cookie (named as in the refreshCookie scheme): HttpOnly; SameSite=Strict; Path=/auth; Max-Age no longer than the session has left'
        : 'Expires the refresh cookie',
    required: true,
    schema: { type: 'string' },
  },
});
