/** A refusal from the API (`code` is its stable error code) or a request that could not complete. */
export class AuthClientError extends Error {
  override readonly name = 'AuthClientError';

  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The `code` of an error body in the API's shape, if it has one. */
export function errorCode(body: unknown): string | undefined {
  const code = (body as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An AuthClientError for a refused request; the server's message never carries a token. */
export function refusal(response: Response, body: unknown): AuthClientError {
  const message = (body as { message?: unknown } | null | undefined)?.message;
  return new AuthClientError(response.status, errorCode(body), typeof message === 'string' ? message : `HTTP ${response.status}`);
}
