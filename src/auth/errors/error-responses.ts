import type { HeaderObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { AUTH_ERROR_MESSAGE, AUTH_ERROR_STATUS, AuthErrorCode } from './auth-error-code.js';
import { errorBody } from './auth-exception.filter.js';

// What the Bearer guard refuses with a WWW-Authenticate challenge; session_revoked also answers
// refresh tokens, and those refusals carry none.
const BEARER_REFUSALS = new Set<AuthErrorCode>([AuthErrorCode.TokenInvalid, AuthErrorCode.TokenExpired, AuthErrorCode.SessionRevoked]);

const RETRY_AFTER: HeaderObject = {
  description: 'Seconds to wait before trying again',
  required: true,
  schema: { type: 'integer', minimum: 1, example: 5 },
};

/** The headers the exception filter sends with these codes of one status. */
function headersOf(status: number, codes: AuthErrorCode[]): Record<string, HeaderObject> | undefined {
  if (status === 429 || status === 503) return { 'Retry-After': RETRY_AFTER };
  if (status !== 401 || !codes.some((code) => code === AuthErrorCode.TokenInvalid || code === AuthErrorCode.TokenExpired)) return undefined;
  const always = codes.every((code) => BEARER_REFUSALS.has(code));
  return {
    'WWW-Authenticate': {
      description: always ? 'The Bearer challenge' : 'The Bearer challenge, when the refusal concerns the access token',
      required: always,
      schema: { type: 'string', example: 'Bearer error="invalid_token"' },
    },
  };
}

/** The error body of one status, its `code` limited to what the route answers with it. */
function schemaOf(status: number, codes: AuthErrorCode[]): SchemaObject {
  return {
    type: 'object',
    required: ['statusCode', 'error', 'message', 'code'],
    properties: {
      statusCode: { type: 'integer', enum: [status] },
      error: { type: 'string', enum: [STATUS_CODES[status]!] },
      message: { type: 'string', description: 'A sentence for people; switch on `code`' },
      code: { type: 'string', enum: codes, description: 'Stable machine-readable code' },
      ...(codes.includes(AuthErrorCode.ValidationFailed)
        ? { details: { type: 'array', items: { type: 'string' }, description: 'Which fields failed and why (validation_failed only)' } }
        : {}),
    },
  };
}

/**
 * The OpenAPI responses for these error codes, one per HTTP status: a body whose `code` enum lists
 * only that status's codes, an example of each code, and the headers the filter sends with them.
 */
export function errorResponses(codes: Iterable<AuthErrorCode>): Record<number, ResponseObject> {
  const byStatus = new Map<number, AuthErrorCode[]>();
  // Sorted so the document does not depend on the order decorators were written in.
  for (const code of [...new Set(codes)].sort()) byStatus.set(AUTH_ERROR_STATUS[code], [...(byStatus.get(AUTH_ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<number, ResponseObject> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = headersOf(status, group);
    responses[status] = {
      description: group.map((code) => `\`${code}\`: ${AUTH_ERROR_MESSAGE[code]}`).join('\n\n'),
      ...(headers ? { headers } : {}),
      content: {
        'application/json': {
          schema: schemaOf(status, group),
          examples: Object.fromEntries(group.map((code) => [code, { summary: AUTH_ERROR_MESSAGE[code], value: errorBody(code, status) }])),
        },
      },
    };
  }
  return responses;
}
