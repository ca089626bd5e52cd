import { CONTROL_CHARACTER } from '../dto/no-control-characters.js';

// The keyset cursor of the user list: the last email of a page, as base64url JSON, so that clients
// treat it as opaque and the order can change without breaking their code.
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const EMAIL_MAX = 254;

export function encodeUserCursor(afterEmail: string): string {
  return Buffer.from(JSON.stringify({ after: afterEmail }), 'utf8').toString('base64url');
}

/** The email a cursor continues after; undefined for anything this codec did not make. */
export function decodeUserCursor(cursor: string): string | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length !== 1) return undefined;
  const after = (value as { after?: unknown }).after;
  // No email has a control character; U+0000 would reach Postgres, which no text can hold.
  return typeof after === 'string' && after.length > 0 && after.length <= EMAIL_MAX && !CONTROL_CHARACTER.test(after) ? after : undefined;
}
