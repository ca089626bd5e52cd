import { AuthErrorCode } from '../../src/auth/index.js';
import type { TestResponse } from './test-app.js';

/** The keys of every error body, besides the optional `details`. */
export const ERROR_KEYS = ['code', 'error', 'message', 'statusCode'];

const KNOWN_CODES: string[] = Object.values(AuthErrorCode);

// What no error body may ever carry: a stack trace, SQL, a password hash, a JWT.
const LEAKS = [/\bstack\b/i, /\bat .+:\d+:\d+/, /\bSELECT\b/, /\bINSERT\b/, /\$argon2/, /eyJ[\w-]{10,}/];

/**
 * Asserts the contract's error shape: exactly {statusCode, error, message, code} (+ details), JSON,
 * the given status and code, nothing leaked. `secrets` are strings (tokens, passwords) that must not echo back.
 */
export function expectErrorBody(response: TestResponse, status: number, code: string, secrets: string[] = []): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(KNOWN_CODES).toContain(code);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const keys = Object.keys(response.body).filter((key) => key !== 'details');
  expect(keys.sort()).toEqual(ERROR_KEYS);
  expect(response.body.statusCode).toBe(status);
  expect(typeof response.body.error).toBe('string');
  expect(typeof response.body.message).toBe('string');
  if ('details' in response.body) {
    expect(Array.isArray(response.body.details)).toBe(true);
    for (const detail of response.body.details) expect(typeof detail).toBe('string');
  }
  const text = JSON.stringify(response.body);
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** One Set-Cookie header, parsed: its value and its attributes (names lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** The Set-Cookie header for `name`, or undefined when the response sets no such cookie. */
export function setCookieOf(response: { headers: Headers }, name: string): SetCookie | undefined {
  for (const header of response.headers.getSetCookie()) {
    const [pair, ...rest] = header.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq) !== name) continue;
    const attributes: Record<string, string | true> = {};
    for (const attribute of rest) {
      const at = attribute.indexOf('=');
      if (at < 0) attributes[attribute.toLowerCase()] = true;
      else attributes[attribute.slice(0, at).toLowerCase()] = attribute.slice(at + 1);
    }
    return { name, value: decodeURIComponent(pair.slice(eq + 1)), attributes };
  }
  return undefined;
}

/** True when a Set-Cookie header tells the browser to drop the cookie now. */
export function isExpiring(cookie: SetCookie): boolean {
  const maxAge = cookie.attributes['max-age'];
  const expires = cookie.attributes.expires;
  return (typeof maxAge === 'string' && Number(maxAge) <= 0) || (typeof expires === 'string' && Date.parse(expires) <= Date.now());
}
