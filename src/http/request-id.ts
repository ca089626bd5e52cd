import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// What a caller (or the proxy in front) may choose as the id: short, and safe in logs and headers.
const WELL_FORMED = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's own id when it is well-formed, else a fresh one. */
export function chooseRequestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}
