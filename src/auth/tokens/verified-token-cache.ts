import type { AuthPrincipal } from './access-token.js';

const NOTHING_NESTED: readonly string[] = [];

// Entries are found by the token's last characters (its signature's) and then compared in full:
// hashing the whole token, a string new with every request, cost more than the rest of a hit.
const KEY_LENGTH = 32;

function keyOf(token: string): string {
  return token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token;
}

interface Entry {
  readonly key: string;
  readonly token: string;
  /** Never handed out: every hit gets its own copy. */
  principal: AuthPrincipal;
  /** Extra claims holding objects or arrays: copied deeply, the rest is copied by the spread. */
  nested: readonly string[];
  /** `exp` plus clock skew, in ms: from then on jsonwebtoken would refuse the token, so the cache does too. */
  expiresAtMs: number;
  /** Hit since the clock hand last passed: spared once. */
  recent: boolean;
  /** Dropped from the map (expired on a hit); its slot is free. */
  dead: boolean;
}

/**
 * The principals of access tokens that passed every check of the JwtStrategy (signature, header,
 * issuer, audience, expiry, claim types), by the token's exact text, so a token seen again skips the
 * signature work and passport. Only what cannot change while the token lives is remembered: revocation
 * and roles are still checked on every request, by the guard, and a token is forgotten the moment
 * jsonwebtoken would call it expired (`exp` + clock skew), so it then fails as an unremembered one does.
 *
 * Bounded: at most `maxEntries` tokens, evicted in CLOCK order (least recently used, roughly), so a
 * flood of distinct tokens never grows it and seldom pushes out the ones in steady use. `0` disables it.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  // The clock: slots in insertion order, and the hand that looks for the next one to reuse.
  private readonly ring: Entry[] = [];
  private hand = 0;
  private readonly skewMs: number;
  private hitCount = 0;
  private missCount = 0;

  constructor(
    readonly maxEntries: number,
    clockSkewSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.skewMs = clockSkewSeconds * 1000;
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /** Lookups answered from memory since start. */
  get hits(): number {
    return this.hitCount;
  }

  /** Lookups that were not (no token, an unknown one, or one expired since), since start. */
  get misses(): number {
    return this.missCount;
  }

  /**
   * A fresh copy of the principal of `token` if it was verified and has not expired since; else
   * undefined, and the caller verifies it in full. What a handler does to its copy reaches no one else.
   */
  principalFor(token: string | null | undefined): AuthPrincipal | undefined {
    const entry = token && this.maxEntries !== 0 ? this.entries.get(keyOf(token)) : undefined;
    if (entry === undefined || entry.token !== token) {
      this.missCount++;
      return undefined;
    }
    if (this.now() >= entry.expiresAtMs) {
      this.forget(entry);
      this.missCount++;
      return undefined;
    }
    entry.recent = true;
    this.hitCount++;
    return copyOf(entry.principal, entry.nested);
  }

  /** Records a token the strategy has just verified in full, with the principal it made of it. */
  remember(token: string | null | undefined, principal: AuthPrincipal): void {
    if (!token || this.maxEntries === 0) return;
    const expiresAtMs = principal.expiresAt * 1000 + this.skewMs;
    if (!(expiresAtMs > this.now())) return;
    const objects = Object.keys(principal).filter((key) => key !== 'roles' && typeof principal[key] === 'object' && principal[key] !== null);
    const nested = objects.length ? objects : NOTHING_NESTED;
    // Its own copy, so the request that verified the token cannot change what later hits get.
    const own = copyOf(principal, nested);
    const key = keyOf(token);
    const known = this.entries.get(key);
    if (known?.token === token) {
      // Verified twice (concurrent first requests): one entry per token, so one slot.
      Object.assign(known, { principal: own, nested, expiresAtMs });
      return;
    }
    // Another token ending in the same characters: the newer one takes the key.
    if (known !== undefined) this.forget(known);
    const entry: Entry = { key, token, principal: own, nested, expiresAtMs, recent: false, dead: false };
    if (this.ring.length < this.maxEntries) this.ring.push(entry);
    else this.ring[this.slotToReuse()] = entry;
    this.entries.set(key, entry);
  }

  /** Out of the map; its slot in the ring is free for the next token. */
  private forget(entry: Entry): void {
    this.entries.delete(entry.key);
    entry.dead = true;
  }

  /** Moves the hand past recently hit, unexpired entries (clearing their mark) to one it may evict. */
  private slotToReuse(): number {
    const now = this.now();
    for (;;) {
      const slot = this.hand;
      this.hand = (slot + 1) % this.ring.length;
      const entry = this.ring[slot];
      if (entry.dead) return slot;
      if (entry.recent && entry.expiresAtMs > now) {
        entry.recent = false;
        continue;
      }
      this.entries.delete(entry.key);
      return slot;
    }
  }
}

function copyOf(principal: AuthPrincipal, nested: readonly string[]): AuthPrincipal {
  const copy: AuthPrincipal = { ...principal, roles: principal.roles.slice() };
  for (const key of nested) copy[key] = structuredClone(principal[key]);
  return copy;
}
