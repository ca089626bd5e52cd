import { AUTH_ERROR_MESSAGE, type AuthErrorCode } from './auth-error-code.js';

export interface AuthErrorOptions {
  /** Why, for the log only; never sent to the client. */
  reason?: string;
  /** Safe, client-facing specifics (validation messages). */
  details?: string[];
  /** The refusal concerns a Bearer access token: answer with a WWW-Authenticate challenge. */
  bearer?: boolean;
  /** Seconds until a rate-limited caller may try again (the Retry-After header). */
  retryAfter?: number;
}

/** A refusal with a stable code. Domain code throws it; only AuthExceptionFilter turns it into HTTP. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    readonly options: AuthErrorOptions = {},
  ) {
    super(AUTH_ERROR_MESSAGE[code]);
    this.name = 'AuthError';
  }
}
