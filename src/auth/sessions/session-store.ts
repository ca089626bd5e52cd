import type { RefreshPolicy } from './refresh-decision.js';

/** A session (refresh-token family) as stored. */
export interface SessionRecord {
  id: string;
  userId: string;
  /** Generation of the family's active refresh token. */
  generation: number;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export interface NewSession {
  id: string;
  userId: string;
  /** Seconds from now to the absolute end. */
  ttl: number;
  /** Seconds of disuse after which a session is dead (it no longer counts against the cap). */
  idleTtl: number;
  /** Live sessions the user may hold, this one included; the least recently used beyond it are revoked. */
  maxLive: number;
  userAgent: string | null;
  ip: string | null;
}

/** A session that has just been revoked, with the database's time of revocation. */
export interface Revocation {
  sessionId: string;
  revokedAt: Date;
}

export type RevocationReason = 'logout' | 'logout_all' | 'deleted' | 'password_change' | 'reuse' | 'session_limit';

export type RefreshOutcome =
  /** `session.generation` is the generation of the token to hand out. */
  | { kind: 'rotated' | 'grace'; session: SessionRecord }
  /** `revocation` is undefined when the family had already been revoked. */
  | { kind: 'reused'; revocation: Revocation | undefined }
  | { kind: 'revoked' | 'expired' | 'unknown' };

/**
 * Persistence of sessions and their refresh tokens: a port, so the rotation can move to another
 * implementation (a single-statement one, another database) without touching its callers.
 * Every method is atomic; revocations are announced to other instances in the same transaction.
 */
export abstract class SessionStore {
  /**
   * Inserts the session and its first refresh token (generation 0), and revokes the user's least
   * recently used live sessions beyond `maxLive`, all in one transaction; returns those revocations.
   */
  abstract create(session: NewSession, firstTokenHash: Buffer): Promise<{ session: SessionRecord; evicted: Revocation[] }>;

  /**
   * Applies the rotation rules to the token with this hash under the family's lock. `hashOf` gives the
   * hash of a family's token of a given generation, for the successor minted on rotation.
   */
  abstract refresh(
    tokenHash: Buffer,
    policy: RefreshPolicy,
    hashOf: (sessionId: string, generation: number) => Buffer,
  ): Promise<RefreshOutcome>;

  /** The session a token (active or already rotated) belongs to, revoked or not. */
  abstract findSessionIdByTokenHash(tokenHash: Buffer): Promise<string | undefined>;

  /** Revokes one live session; with `userId`, only if it is that user's. Empty when nothing was revoked. */
  abstract revoke(sessionId: string, reason: RevocationReason, userId?: string): Promise<Revocation[]>;

  /** Revokes every live session of a user, but `exceptSessionId`. */
  abstract revokeAllOfUser(userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<Revocation[]>;

  /** A user's live sessions (not revoked, not past their absolute or idle end), newest first. */
  abstract listLive(userId: string, idleTtl: number): Promise<SessionRecord[]>;

  /** Sessions revoked at or after `since`, oldest first. */
  abstract revokedSince(since: Date): Promise<Revocation[]>;
}
