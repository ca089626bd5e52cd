import type { StoredUser } from '../users/user-store.js';
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

/** What issuing a new pair needs of a session: a rotation reads no more. */
export type RotatedSession = Pick<SessionRecord, 'id' | 'userId' | 'generation' | 'lastUsedAt' | 'expiresAt'>;

/** What issuing a new pair needs of the session's user, unless `extraClaims` asks for the whole user. */
export type RotatingUser = Pick<StoredUser, 'roles' | 'disabledAt'>;

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
  userId: string;
  revokedAt: Date;
  reason: string;
}

export type RevocationReason = 'logout' | 'logout_all' | 'deleted' | 'password_change' | 'reuse' | 'session_limit' | 'admin' | 'account_disabled';

export type RefreshOutcome =
  /**
   * `session.generation` is the generation of the token to hand out. `user` is what a refresh needs of
   * the session's user when the store read it in the same statement (null: no such user); absent, the
   * caller asks the UserStore.
   */
  | { kind: 'rotated' | 'grace'; session: RotatedSession; user?: RotatingUser | null }
  /** `revocation` is undefined when the family had already been revoked. */
  | { kind: 'reused'; userId: string; revocation: Revocation | undefined }
  /** `userId`: whose family it is, so a refusal can say that the account is disabled instead. */
  | { kind: 'revoked' | 'expired'; userId: string }
  | { kind: 'unknown' };

/**
 * Persistence of sessions (refresh-token families): a port, so the rotation can move to another
 * implementation without touching its callers. A session stores its current generation and the times
 * of its last few rotations, nothing per token. Every method is atomic; revocations are announced to
 * other instances in the same statement.
 */
export abstract class SessionStore {
  /**
   * Inserts the session at generation 0, and revokes the user's least recently used live sessions
   * beyond `maxLive`, in one transaction; returns those revocations. `stillValid` runs under the
   * user's lock, which password changes take too: false (the credentials changed meanwhile) aborts.
   */
  abstract create(session: NewSession, stillValid: () => Promise<boolean>): Promise<{ session: SessionRecord; evicted: Revocation[] } | undefined>;

  /** Applies the rotation rules to the token of `generation` in family `sessionId`, atomically. */
  abstract refresh(sessionId: string, generation: number, policy: RefreshPolicy): Promise<RefreshOutcome>;

  /** Runs `task` holding the user's lock (the one `create` and `revokeAllAndChange` take): one change of a user at a time. */
  abstract withUserLock<T>(userId: string, task: () => Promise<T>): Promise<T>;

  /**
   * A password change or a disabled account: revokes every session of the user but `exceptSessionId`,
   * then runs `change`, holding the lock `create` takes throughout — so a login that checked the old
   * password (or the account before it was disabled) either started its session before (and it is
   * revoked here) or sees the change.
   */
  abstract revokeAllAndChange(
    userId: string,
    reason: RevocationReason,
    change: () => Promise<unknown>,
    exceptSessionId?: string,
  ): Promise<Revocation[]>;

  /** Revokes one live session; with `userId`, only if it is that user's. Empty when nothing was revoked. */
  abstract revoke(sessionId: string, reason: RevocationReason, userId?: string): Promise<Revocation[]>;

  /** Revokes every live session of a user, but `exceptSessionId`. */
  abstract revokeAllOfUser(userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<Revocation[]>;

  /** A user's live sessions (not revoked, not past their absolute or idle end), newest first. */
  abstract listLive(userId: string, idleTtl: number): Promise<SessionRecord[]>;

  /** Sessions revoked at or after `since`, oldest first. */
  abstract revokedSince(since: Date): Promise<Revocation[]>;
}
