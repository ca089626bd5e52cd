import type { AuthPrincipal } from './access-token.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

// A clock the test moves by hand: expiry is shown by setting the time, never by waiting.
let nowMs = 1_800_000_000_000;
const clock = () => nowMs;
const nowSeconds = () => Math.floor(nowMs / 1000);

function principalOf(token: string, expiresAt = nowSeconds() + 900, extra: Record<string, unknown> = {}): AuthPrincipal {
  return {
    userId: `user-${token}`,
    sessionId: `session-${token}`,
    roles: ['user'],
    jti: `jti-${token}`,
    issuedAt: nowSeconds(),
    expiresAt,
    ...extra,
  };
}

describe('VerifiedTokenCache', () => {
  beforeEach(() => {
    nowMs = 1_800_000_000_000;
  });

  it('answers a remembered token with an equal principal, and an unknown one with undefined', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const principal = principalOf('a', nowSeconds() + 900, { tenantId: 't1' });
    cache.remember('token-a', principal);
    expect(cache.principalFor('token-a')).toEqual(principal);
    expect(cache.principalFor('token-b')).toBeUndefined();
    expect(cache.principalFor(null)).toBeUndefined();
    expect(cache.principalFor('')).toBeUndefined();
  });

  it('keeps the principal shape: the same keys in the same order as the strategy made them', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const principal = principalOf('a', nowSeconds() + 900, { tenantId: 't1', scopes: ['read'] });
    cache.remember('token-a', principal);
    expect(Object.keys(cache.principalFor('token-a')!)).toEqual(Object.keys(principal));
  });

  it('is keyed by the exact token: a prefix, an extension or a one-character change is not a hit', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    cache.remember(token, principalOf('a'));
    expect(cache.principalFor(token)).toBeDefined();
    expect(cache.principalFor(token.slice(0, -1))).toBeUndefined();
    expect(cache.principalFor(`${token}x`)).toBeUndefined();
    expect(cache.principalFor(`${token.slice(0, -1)}f`)).toBeUndefined();
    expect(cache.principalFor(token.toUpperCase())).toBeUndefined();
  });

  it('tells apart tokens that end in the same characters, and keeps the one verified last', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const signature = 'c2lnbmF0dXJlLW9mLXRoaXJ0eS10d28tY2hhcmFjdGVycy1vcg';
    const [first, second] = ['eyJzdWIiOiIxIn0', 'eyJzdWIiOiIyIn0'].map((payload) => `eyJhbGciOiJFUzI1NiJ9.${payload}.${signature}`);
    cache.remember(first, principalOf('first'));
    expect(cache.principalFor(second)).toBeUndefined();
    cache.remember(second, principalOf('second'));
    expect(cache.principalFor(second)?.userId).toBe('user-second');
    expect(cache.principalFor(first)).toBeUndefined();
    expect(cache.size).toBe(1);
    // The slot the first one held is reused: the bound still holds.
    for (let index = 0; index < 20; index++) cache.remember(`token-${index}`, principalOf(`token-${index}`));
    expect(cache.size).toBe(10);
  });

  it('hands every hit its own copy: what one request does to its principal reaches no other', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const verified = principalOf('a', nowSeconds() + 900, { tenant: { id: 't1', plans: ['basic'] } });
    cache.remember('token-a', verified);
    // The request that verified the token keeps its object; changing it changes nothing remembered.
    verified.roles.push('admin');
    verified.userId = 'someone else';
    const first = cache.principalFor('token-a')!;
    first.roles.push('admin');
    first.sessionId = 'another session';
    (first.tenant as { plans: string[] }).plans.push('enterprise');
    const second = cache.principalFor('token-a')!;
    expect(second).not.toBe(first);
    expect(second.roles).toEqual(['user']);
    expect(second.userId).toBe('user-a');
    expect(second.sessionId).toBe('session-a');
    expect(second.tenant).toEqual({ id: 't1', plans: ['basic'] });
  });

  it('forgets a token once its exp plus the clock skew has come, as jsonwebtoken refuses it from then on', () => {
    const cache = new VerifiedTokenCache(10, 5, clock);
    const exp = nowSeconds() + 60;
    cache.remember('token-a', principalOf('a', exp));
    nowMs = exp * 1000; // exp reached, but within the 5 s skew: jsonwebtoken still accepts it
    expect(cache.principalFor('token-a')).toBeDefined();
    nowMs = (exp + 5) * 1000 - 1;
    expect(cache.principalFor('token-a')).toBeDefined();
    nowMs = (exp + 5) * 1000; // floor(now / 1000) >= exp + skew: expired for jsonwebtoken
    expect(cache.principalFor('token-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('with no clock skew, forgets a token at its exp', () => {
    const cache = new VerifiedTokenCache(10, 0, clock);
    const exp = nowSeconds() + 2;
    cache.remember('token-a', principalOf('a', exp));
    nowMs = exp * 1000 - 1;
    expect(cache.principalFor('token-a')).toBeDefined();
    nowMs = exp * 1000;
    expect(cache.principalFor('token-a')).toBeUndefined();
  });

  it('does not remember a token that has already expired', () => {
    const cache = new VerifiedTokenCache(10, 0, clock);
    cache.remember('token-a', principalOf('a', nowSeconds()));
    expect(cache.size).toBe(0);
    expect(cache.principalFor('token-a')).toBeUndefined();
  });

  it('never holds more than its bound, however many distinct tokens arrive', () => {
    const cache = new VerifiedTokenCache(100, 5, clock);
    for (let index = 0; index < 10_000; index++) {
      cache.remember(`token-${index}`, principalOf(String(index)));
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(100);
    // The newest are the ones kept.
    expect(cache.principalFor('token-9999')).toBeDefined();
    expect(cache.principalFor('token-0')).toBeUndefined();
  });

  it('keeps the tokens in steady use through a flood of tokens seen once', () => {
    const cache = new VerifiedTokenCache(100, 5, clock);
    const hot = Array.from({ length: 10 }, (_, index) => `hot-${index}`);
    for (const token of hot) cache.remember(token, principalOf(token));
    for (let index = 0; index < 5_000; index++) {
      cache.remember(`flood-${index}`, principalOf(String(index)));
      // Each hot token is used about as often as a tenth of the flood arrives.
      if (index % 10 === 0) for (const token of hot) expect(cache.principalFor(token)).toBeDefined();
    }
    expect(cache.size).toBe(100);
  });

  it('gives expired entries up first when full, and keeps one entry per token when it is verified twice', () => {
    const cache = new VerifiedTokenCache(3, 0, clock);
    cache.remember('short', principalOf('short', nowSeconds() + 1));
    cache.remember('long-1', principalOf('long-1'));
    cache.remember('long-1', principalOf('long-1')); // two first requests verified it at once
    cache.remember('long-2', principalOf('long-2'));
    expect(cache.size).toBe(3);
    nowMs += 2000;
    expect(cache.principalFor('short')).toBeUndefined(); // expired: dropped, its slot free
    cache.remember('long-3', principalOf('long-3'));
    expect(cache.size).toBe(3);
    for (const token of ['long-1', 'long-2', 'long-3']) expect(cache.principalFor(token)).toBeDefined();
  });

  it('remembers nothing with a bound of 0', () => {
    const cache = new VerifiedTokenCache(0, 5, clock);
    cache.remember('token-a', principalOf('a'));
    expect(cache.size).toBe(0);
    expect(cache.principalFor('token-a')).toBeUndefined();
  });
});
