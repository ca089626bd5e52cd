import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { AuthErrorCode } from './errors/auth-error-code.js';
import { AuthError } from './errors/auth-error.js';

// Our bodies are flat objects; anything much deeper is abuse, and class-transformer recurses on it.
const MAX_BODY_DEPTH = 8;

/**
 * Validates the package's request bodies: unknown properties refused, every failed check listed.
 * Bodies are screened first for what a host's JSON parser may let through (Express's does):
 * prototype-poisoning keys, and nesting deep enough to exhaust the stack.
 */
@Injectable()
export class AuthValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) =>
        new AuthError(AuthErrorCode.ValidationFailed, {
          details: errors.flatMap((error) => Object.values(error.constraints ?? { [error.property]: `${error.property} is invalid` })),
        }),
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      // Nest would validate null as {} and an array element by element; a body we take is an object or absent.
      if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw refused('the body must be a JSON object');
      assertSafeBody(value);
    }
    return super.transform(value, metadata);
  }
}

/** Refuses prototype-poisoning keys and deep nesting (400); for guards, which run before any pipe. */
export function assertSafeBody(body: unknown): void {
  const pending: { value: unknown; depth: number }[] = [{ value: body, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > MAX_BODY_DEPTH) throw refused(`the body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    for (const key of Object.keys(next.value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw refused(`the key "${key}" is not allowed`);
      pending.push({ value: (next.value as Record<string, unknown>)[key], depth: next.depth + 1 });
    }
  }
}

function refused(detail: string): AuthError {
  return new AuthError(AuthErrorCode.ValidationFailed, { details: [detail] });
}
