/** What the database says about a presented refresh token and its family, read under the family's lock. */
export interface RefreshState {
  /** The database's clock. */
  now: Date;
  sessionGeneration: number;
  sessionRevoked: boolean;
  expiresAt: Date;
  lastUsedAt: Date;
  tokenGeneration: number;
  tokenRotatedAt: Date | null;
}

export interface RefreshPolicy {
  /** Seconds a session may go unused. */
  idleTtl: number;
  /** Seconds after its rotation a token may come back without counting as reuse; 0 is strict mode. */
  reuseGrace: number;
}

/**
 * rotate: the token is the family's active one. grace: it was rotated moments ago (a retry or a
 * second tab): answer with the current token. reuse: an old token came back: revoke the family.
 */
export type RefreshDecision = 'rotate' | 'grace' | 'reuse' | 'revoked' | 'expired';

/** The rotation rules of the contract, as one pure function. */
export function decideRefresh(state: RefreshState, policy: RefreshPolicy): RefreshDecision {
  const now = state.now.getTime();
  const active = state.tokenGeneration === state.sessionGeneration;
  const rotatedAgo = state.tokenRotatedAt ? now - state.tokenRotatedAt.getTime() : Infinity;
  // Checked first: a replay outside the grace is reuse whatever became of its family since, so the
  // replays that queue behind the one that revoked the family hear the same answer it did (strict mode:
  // any second presentation is reuse, however many arrive at once).
  if (!active && rotatedAgo >= policy.reuseGrace * 1000) return 'reuse';
  if (state.sessionRevoked) return 'revoked';
  if (now >= state.expiresAt.getTime() || now >= state.lastUsedAt.getTime() + policy.idleTtl * 1000) return 'expired';
  return active ? 'rotate' : 'grace';
}
