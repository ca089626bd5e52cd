/** The security events of the HTTP contract. Subscribers and queries switch on these; they never change. */
export const AuthEventType = {
  LoginSucceeded: 'login_succeeded',
  LoginFailed: 'login_failed',
  LoginThrottled: 'login_throttled',
  RefreshReuseDetected: 'refresh_reuse_detected',
  SessionRevoked: 'session_revoked',
  PasswordChanged: 'password_changed',
  AccountDisabled: 'account_disabled',
  AccountEnabled: 'account_enabled',
  RolesChanged: 'roles_changed',
} as const;

export type AuthEventType = (typeof AuthEventType)[keyof typeof AuthEventType];

/** A value of an event's detail: flat, small, JSON. */
export type AuthEventDetailValue = string | number | boolean | null | readonly string[];

/** What an event says beyond its columns, e.g. `{ reason: 'logout' }` or `{ from: ['user'], to: ['admin'] }`. */
export type AuthEventDetail = Readonly<Record<string, AuthEventDetailValue>>;

/** A security event as subscribers get it, logged and stored in `auth_events`; frozen. */
export interface AuthEvent {
  readonly type: AuthEventType;
  /** The account concerned (a known account only: never the email a failed login typed). */
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly at: Date;
  /** Never a password, token, cookie or hash: keys that name one are dropped, values that look like one are redacted. */
  readonly detail: AuthEventDetail;
}

/** What `AuthEvents.emit` takes: the type, and whatever is known of the rest (`at` defaults to now). */
export type NewAuthEvent = Pick<AuthEvent, 'type'> & { readonly [K in Exclude<keyof AuthEvent, 'type'>]?: AuthEvent[K] | undefined };

// Sized like the columns of auth_events (and auth_sessions), so no event can fail its insert.
export const EVENT_LIMITS = { type: 64, userId: 256, ip: 64, userAgent: 512, requestId: 128, detailKeys: 16, detailText: 256, detailList: 32 } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Names under which a caller might hand over a secret: such keys never reach the log or the table.
const SECRET_KEY = /pass(word|phrase)?|pwd|secret|token|cookie|hash|authori[sz]ation|credential|jwt|bearer|api[-_]?key/i;
// Values that hold something like a secret whatever their key: a JWT, a long opaque run (a refresh
// token is 70 base64url characters, a SHA-256 64 hex digits), a password hash, an Authorization value.
const SECRET_VALUE = /eyJ[\w-]*\.[\w-]*\.|[\w-]{40,}|\$(argon2|2[abxy]?\$|scrypt|pbkdf2)|bearer\s/i;
export const REDACTED = '[redacted]';

/**
 * The event as it is logged, handed out and stored: text cut to its column, a session id that is not
 * a UUID dropped, the detail flattened and rid of anything that names or looks like a secret. Never throws.
 */
export function toAuthEvent(input: NewAuthEvent): AuthEvent {
  const at = input.at instanceof Date && Number.isFinite(input.at.getTime()) ? new Date(input.at.getTime()) : new Date();
  const sessionId = typeof input.sessionId === 'string' && UUID.test(input.sessionId) ? input.sessionId.toLowerCase() : null;
  return Object.freeze({
    type: (text(input.type, EVENT_LIMITS.type) ?? 'unknown') as AuthEventType,
    userId: text(input.userId, EVENT_LIMITS.userId),
    sessionId,
    ip: text(input.ip, EVENT_LIMITS.ip),
    userAgent: text(input.userAgent, EVENT_LIMITS.userAgent),
    requestId: text(input.requestId, EVENT_LIMITS.requestId),
    at,
    detail: detailOf(input.detail),
  });
}

/** The one-line JSON form of an event (the log line's message). */
export function authEventJson(event: AuthEvent): string {
  return JSON.stringify(event);
}

function text(value: unknown, max: number): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || value.length === 0) return null;
  // Postgres text cannot hold NUL; a cut through a surrogate pair would leave half a character.
  const clean = value.replaceAll('\u0000', '').slice(0, max);
  return clean.replace(/[\ud800-\udbff]$/, '') || null;
}

function detailOf(detail: unknown): AuthEventDetail {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return Object.freeze({});
  const out: Record<string, AuthEventDetailValue> = {};
  let keys = 0;
  for (const [key, value] of Object.entries(detail)) {
    if (keys >= EVENT_LIMITS.detailKeys) break;
    if (SECRET_KEY.test(key) || key.length > EVENT_LIMITS.type) continue;
    const clean = detailValue(value);
    if (clean === undefined) continue;
    out[key] = clean;
    keys++;
  }
  return Object.freeze(out);
}

function detailValue(value: unknown): AuthEventDetailValue | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return detailText(value);
  if (Array.isArray(value)) {
    return Object.freeze(
      value
        .slice(0, EVENT_LIMITS.detailList)
        .filter((item) => typeof item === 'string' || typeof item === 'number')
        .map((item) => detailText(String(item))),
    );
  }
  return undefined;
}

function detailText(value: string): string {
  if (SECRET_VALUE.test(value)) return REDACTED;
  return text(value, EVENT_LIMITS.detailText) ?? '';
}
