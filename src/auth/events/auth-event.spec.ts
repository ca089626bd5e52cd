import { AuthEventType, EVENT_LIMITS, REDACTED, toAuthEvent } from './auth-event.js';

const SESSION = '0b6a6f0e-3c3f-4d3c-9a53-2f6f0d7a1c11';

describe('toAuthEvent', () => {
  it('keeps what it is given, fills the rest with null and now, and freezes it', () => {
    const at = new Date('2030-01-02T03:04:05.678Z');
    const event = toAuthEvent({
      type: AuthEventType.SessionRevoked,
      userId: 'u-1',
      sessionId: SESSION,
      ip: '203.0.113.9',
      userAgent: 'curl/8',
      requestId: 'req-1',
      at,
      detail: { reason: 'logout', count: 2, current: true, previous: null, roles: ['admin', 'user'] },
    });
    expect(event).toEqual({
      type: 'session_revoked',
      userId: 'u-1',
      sessionId: SESSION,
      ip: '203.0.113.9',
      userAgent: 'curl/8',
      requestId: 'req-1',
      at,
      detail: { reason: 'logout', count: 2, current: true, previous: null, roles: ['admin', 'user'] },
    });
    expect(event.at).not.toBe(at);
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.detail)).toBe(true);

    const before = Date.now();
    const bare = toAuthEvent({ type: AuthEventType.LoginFailed });
    expect(bare).toMatchObject({ userId: null, sessionId: null, ip: null, userAgent: null, requestId: null, detail: {} });
    expect(bare.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('drops detail keys that name a secret, whatever their value', () => {
    const { detail } = toAuthEvent({
      type: AuthEventType.LoginFailed,
      detail: {
        reason: 'wrong password',
        password: 'hunter2hunter2',
        newPassword: 'x',
        refreshToken: 'abc',
        accessToken: 'abc',
        cookie: 'a=b',
        passwordHash: 'h',
        clientSecret: 's',
        authorization: 'Bearer x',
        apiKey: 'k',
      },
    });
    expect(detail).toEqual({ reason: 'wrong password' });
  });

  it('redacts values that look like a token or a hash under any key', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const refresh = 'A'.repeat(30) + '_-' + 'b'.repeat(38);
    const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
    const bcrypt = '$2b$10$abcdefghijklmnopqrstuv';
    const sha256 = 'ab'.repeat(32);
    const { detail } = toAuthEvent({
      type: AuthEventType.SessionRevoked,
      detail: { a: jwt, b: refresh, c: argon, d: bcrypt, e: 'Bearer abc', f: [jwt, 'ok'], g: `token was ${refresh}!`, h: sha256, i: 'reuse', j: SESSION },
    });
    expect(detail).toEqual({ a: REDACTED, b: REDACTED, c: REDACTED, d: REDACTED, e: REDACTED, f: [REDACTED, 'ok'], g: REDACTED, h: REDACTED, i: 'reuse', j: SESSION });
    expect(JSON.stringify(detail)).not.toMatch(/eyJ|argon2|\$2b/);
  });

  it('flattens the detail: no nested objects, no functions, no non-finite numbers, a bounded size', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`k${index}`, index]));
    expect(Object.keys(toAuthEvent({ type: AuthEventType.RolesChanged, detail: many }).detail)).toHaveLength(EVENT_LIMITS.detailKeys);
    const { detail } = toAuthEvent({
      type: AuthEventType.RolesChanged,
      detail: {
        nested: { password: 'x' },
        fn: () => 1,
        nan: Number.NaN,
        big: 10n,
        long: 'long text '.repeat(100),
        list: [1, 'two', { three: 3 }, ...Array.from({ length: 50 }, () => 'r')],
      } as never,
    });
    expect(detail).toEqual({ long: 'long text '.repeat(100).slice(0, EVENT_LIMITS.detailText), list: ['1', 'two', ...Array.from({ length: EVENT_LIMITS.detailList - 3 }, () => 'r')] });
    expect(toAuthEvent({ type: AuthEventType.RolesChanged, detail: ['a'] as never }).detail).toEqual({});
    expect(toAuthEvent({ type: AuthEventType.RolesChanged, detail: 'text' as never }).detail).toEqual({});
  });

  it('cuts text to its column, drops NUL characters and never splits a character', () => {
    const event = toAuthEvent({
      type: AuthEventType.LoginSucceeded,
      userAgent: 'u'.repeat(EVENT_LIMITS.userAgent - 1) + '😀',
      ip: `1.2.3.4\u0000${'9'.repeat(100)}`,
      requestId: 'r'.repeat(500),
      userId: '',
    });
    expect(event.userAgent).toBe('u'.repeat(EVENT_LIMITS.userAgent - 1));
    expect(event.ip).toBe(`1.2.3.4${'9'.repeat(EVENT_LIMITS.ip - 7)}`);
    expect(event.requestId).toHaveLength(EVENT_LIMITS.requestId);
    expect(event.userId).toBeNull();
  });

  it('takes only a UUID as session id, and a valid date as time', () => {
    expect(toAuthEvent({ type: AuthEventType.SessionRevoked, sessionId: "x'; DROP TABLE auth_events; --" }).sessionId).toBeNull();
    expect(toAuthEvent({ type: AuthEventType.SessionRevoked, sessionId: SESSION.toUpperCase() }).sessionId).toBe(SESSION);
    expect(Number.isFinite(toAuthEvent({ type: AuthEventType.SessionRevoked, at: new Date('nope') }).at.getTime())).toBe(true);
  });
});
