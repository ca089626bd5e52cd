import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { DECORATORS } from '@nestjs/swagger';
import { API_ERRORS_KEY } from '../auth.constants.js';
import type { AuthErrorCode } from '../errors/auth-error-code.js';
import { errorResponses } from '../errors/error-responses.js';

/**
 * Documents the error codes a route (or every route of a controller) can answer with: one response per
 * HTTP status, whose `code` enum lists only that status's codes. Codes add up across decorators, on the
 * method and on its controller, so `@Authenticated()` and a route's own `@ApiErrors(…)` of the same
 * status (two 401 codes) end up in one response instead of one hiding the other.
 */
export const ApiErrors =
  (...codes: AuthErrorCode[]): MethodDecorator & ClassDecorator =>
  (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) return document(descriptor.value as object, codes);
    // A controller's responses would be shadowed by any method response of the same status: they go
    // into each route instead (class decorators run after every method decorator).
    const prototype = (target as { prototype: object }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = Object.getOwnPropertyDescriptor(prototype, name)?.value;
      if (typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler)) document(handler, codes);
    }
  };

function document(handler: object, codes: AuthErrorCode[]): void {
  const all = [...((Reflect.getMetadata(API_ERRORS_KEY, handler) as AuthErrorCode[] | undefined) ?? []), ...codes];
  Reflect.defineMetadata(API_ERRORS_KEY, all, handler);
  // Written whole, not through @ApiResponse, which would concatenate the descriptions of a status.
  Reflect.defineMetadata(DECORATORS.API_RESPONSE, { ...Reflect.getMetadata(DECORATORS.API_RESPONSE, handler), ...errorResponses(all) }, handler);
}
