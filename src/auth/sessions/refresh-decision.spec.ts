import { decideRefresh, type RefreshPolicy, type RefreshState } from './refresh-decision.js';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW + offsetMs);
const POLICY: RefreshPolicy = { idleTtl: 60, reuseGrace: 10 };

/** A live family whose active token (generation 3) is presented; each test changes what it is about. */
function state(overrides: Partial<RefreshState> = {}): RefreshState {
  return {
    now: at(0),
    sessionGeneration: 3,
    sessionRevoked: false,
    expiresAt: at(3_600_000),
    lastUsedAt: at(-5_000),
    tokenGeneration: 3,
    tokenRotatedAt: null,
    ...overrides,
  };
}

/** The token of the generation before the active one, rotated `agoMs` before now. */
const rotated = (agoMs: number, overrides: Partial<RefreshState> = {}) =>
  state({ tokenGeneration: 2, tokenRotatedAt: at(-agoMs), ...overrides });

describe('decideRefresh', () => {
  describe('the active token', () => {
    it('rotates in a live family', () => {
      expect(decideRefresh(state(), POLICY)).toBe('rotate');
    });

    it('is refused as revoked once the family is revoked', () => {
      expect(decideRefresh(state({ sessionRevoked: true }), POLICY)).toBe('revoked');
    });

    it('reports revoked rather than expired when both hold', () => {
      const expiredEverywhichWay = { sessionRevoked: true, expiresAt: at(-1), lastUsedAt: at(-3_600_000) };
      expect(decideRefresh(state(expiredEverywhichWay), POLICY)).toBe('revoked');
    });
  });

  describe('absolute lifetime', () => {
    it('still rotates 1 ms before the absolute end', () => {
      expect(decideRefresh(state({ expiresAt: at(1) }), POLICY)).toBe('rotate');
    });

    it('is expired exactly at the absolute end', () => {
      expect(decideRefresh(state({ expiresAt: at(0) }), POLICY)).toBe('expired');
    });

    it('is expired after the absolute end, however recently the session was used', () => {
      expect(decideRefresh(state({ expiresAt: at(-1), lastUsedAt: at(-1) }), POLICY)).toBe('expired');
    });
  });

  describe('idle lifetime', () => {
    it('still rotates 1 ms before the idle end', () => {
      expect(decideRefresh(state({ lastUsedAt: at(-60_000 + 1) }), POLICY)).toBe('rotate');
    });

    it('is expired exactly at the idle end', () => {
      expect(decideRefresh(state({ lastUsedAt: at(-60_000) }), POLICY)).toBe('expired');
    });

    it('measures idleness with the policy, not a fixed number', () => {
      const lastUsedAt = at(-90_000);
      expect(decideRefresh(state({ lastUsedAt }), POLICY)).toBe('expired');
      expect(decideRefresh(state({ lastUsedAt }), { ...POLICY, idleTtl: 120 })).toBe('rotate');
    });
  });

  describe('an already rotated token', () => {
    it('gets the grace when presented just after its rotation', () => {
      expect(decideRefresh(rotated(1), POLICY)).toBe('grace');
    });

    it('gets the grace at the same instant as its rotation', () => {
      expect(decideRefresh(rotated(0), POLICY)).toBe('grace');
    });

    it('still gets the grace 1 ms before the grace ends', () => {
      expect(decideRefresh(rotated(10_000 - 1), POLICY)).toBe('grace');
    });

    it('is reuse exactly when the grace ends', () => {
      expect(decideRefresh(rotated(10_000), POLICY)).toBe('reuse');
    });

    it('is reuse long after its rotation', () => {
      expect(decideRefresh(rotated(3_000_000), POLICY)).toBe('reuse');
    });

    it('measures the grace from its own rotation, not from the latest one of the family', () => {
      // Two generations back, rotated 1 s ago (the family rotated again since): still a retry.
      expect(decideRefresh(state({ tokenGeneration: 1, tokenRotatedAt: at(-1_000) }), POLICY)).toBe('grace');
      // Rotated 20 s ago, although the family's latest rotation was moments ago: reuse.
      expect(decideRefresh(state({ tokenGeneration: 1, tokenRotatedAt: at(-20_000), lastUsedAt: at(-1) }), POLICY)).toBe(
        'reuse',
      );
    });

    it('is reuse when no rotation time is known', () => {
      expect(decideRefresh(state({ tokenGeneration: 2, tokenRotatedAt: null }), POLICY)).toBe('reuse');
    });

    it('gets no grace in a revoked family', () => {
      expect(decideRefresh(rotated(1, { sessionRevoked: true }), POLICY)).toBe('revoked');
    });

    it('gets no grace in an expired family', () => {
      expect(decideRefresh(rotated(1, { expiresAt: at(0) }), POLICY)).toBe('expired');
      expect(decideRefresh(rotated(1, { lastUsedAt: at(-60_000) }), POLICY)).toBe('expired');
    });

    it('is reuse outside the grace even when its family is already revoked (every replay is answered alike)', () => {
      expect(decideRefresh(rotated(10_000, { sessionRevoked: true }), POLICY)).toBe('reuse');
    });

    it('is reuse outside the grace even when its family has expired', () => {
      expect(decideRefresh(rotated(10_000, { expiresAt: at(-1) }), POLICY)).toBe('reuse');
      expect(decideRefresh(rotated(10_000, { lastUsedAt: at(-60_000) }), POLICY)).toBe('reuse');
    });
  });

  describe('strict mode (grace 0)', () => {
    const STRICT: RefreshPolicy = { ...POLICY, reuseGrace: 0 };

    it('still rotates the active token', () => {
      expect(decideRefresh(state(), STRICT)).toBe('rotate');
    });

    it('makes any second presentation reuse, even at the instant of the rotation', () => {
      expect(decideRefresh(rotated(0), STRICT)).toBe('reuse');
      expect(decideRefresh(rotated(1), STRICT)).toBe('reuse');
    });

    it('makes a second presentation reuse after the family was revoked by the first reuse', () => {
      expect(decideRefresh(rotated(0, { sessionRevoked: true }), STRICT)).toBe('reuse');
    });

    it('still refuses the active token of a revoked family as revoked', () => {
      expect(decideRefresh(state({ sessionRevoked: true }), STRICT)).toBe('revoked');
    });
  });
});
