import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { type AuthEventDetail, AuthEventType } from '../events/auth-event.js';
import { AuthEvents } from '../events/auth-events.js';
import { AuthOutcomes, RefreshOutcome } from '../events/auth-outcomes.js';
import { AuthError, type AuthErrorOptions } from '../errors/auth-error.js';
import { AuthSettings, checkExtraClaims, type TokenSettings } from '../options/auth-settings.js';
import { type StoredUser, UserStore } from '../users/user-store.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import type { RefreshPolicy } from './refresh-decision.js';
import { RefreshTokenCodec } from './refresh-token-codec.js';
import { RevokedSessions } from './revoked-sessions.js';
import { type Revocation, type RevocationReason, type RotatedSession, type RotatingUser, type SessionRecord, SessionStore } from './session-store.js';

/** Where a request came from: user agent and address are shown in the session list, the request id goes into its events. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
  requestId?: string | null;
}

/** An access token and the refresh token of its session. */
export interface IssuedTokens {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  refreshToken: string;
  /** Seconds the refresh token stays usable: the sooner of the idle and the absolute end. */
  refreshTokenExpiresIn: number;
  sessionId: string;
}

/** Why a login whose password was right still gets no session: the account changed while it checked. */
export type StartRefusal = 'password_changed' | 'account_disabled';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sessions and their tokens: start, rotate, list and revoke. */
@Injectable()
export class SessionsService {
  private readonly config: TokenSettings;
  private readonly policy: RefreshPolicy;
  private readonly extraClaims: AuthSettings['extraClaims'];
  private readonly sessionsPerUserMax: number;

  constructor(
    private readonly store: SessionStore,
    private readonly codec: RefreshTokenCodec,
    private readonly accessTokens: AccessTokenService,
    private readonly revokedSessions: RevokedSessions,
    private readonly users: UserStore,
    private readonly events: AuthEvents,
    private readonly outcomes: AuthOutcomes,
    settings: AuthSettings,
  ) {
    this.config = settings.tokens;
    this.extraClaims = settings.extraClaims;
    this.sessionsPerUserMax = settings.sessionsPerUserMax;
    this.policy = { idleTtl: this.config.refreshIdleTtl, reuseGrace: this.config.refreshReuseGrace };
  }

  /**
   * Starts a session for a user whose password hash `verifiedHash` was just checked; a refusal when
   * that hash changed or the account was disabled meanwhile (the change won the race: the login must
   * not go through). Both are read under the user's lock, which those changes hold.
   */
  async start(user: StoredUser, client: ClientInfo, verifiedHash: string): Promise<IssuedTokens | StartRefusal> {
    // Before the session exists: a failing extraClaims hook leaves nothing behind.
    const extraClaims = await this.extraClaimsOf(user);
    let refusal: StartRefusal = 'password_changed';
    const created = await this.store.create(
      {
        id: randomUUID(),
        userId: user.id,
        ttl: this.config.refreshTokenTtl,
        idleTtl: this.config.refreshIdleTtl,
        maxLive: this.sessionsPerUserMax,
        ...client,
      },
      async () => {
        const current = await this.users.findById(user.id);
        if (current?.disabledAt) refusal = 'account_disabled';
        return current?.passwordHash === verifiedHash && !current.disabledAt;
      },
    );
    if (!created) return refusal;
    this.remember(created.evicted, client);
    return this.issue(created.session, user.roles, extraClaims);
  }

  /**
   * Revokes every session of the user but `keepSessionId` and makes `change` (a new password hash, a
   * disabled flag), with no login slipping between.
   */
  async endAllAndChange(
    userId: string,
    reason: RevocationReason,
    change: () => Promise<unknown>,
    options: { keepSessionId?: string; client?: ClientInfo; actor?: string } = {},
  ): Promise<void> {
    this.remember(await this.store.revokeAllAndChange(userId, reason, change, options.keepSessionId), options.client, options.actor);
  }

  /** Runs `change` of the user's account while no other such change, and no login of the user, runs. */
  changeUser<T>(userId: string, change: () => Promise<T>): Promise<T> {
    return this.store.withUserLock(userId, change);
  }

  /** Rotates a refresh token per the contract's rules; a reused token revokes its whole family. */
  async refresh(refreshToken: string, client?: ClientInfo): Promise<IssuedTokens> {
    const token = this.codec.parse(refreshToken);
    if (!token) throw this.refused(RefreshOutcome.Invalid, AuthErrorCode.RefreshTokenInvalid, { reason: 'malformed or forged' });
    const outcome = await this.store.refresh(token.sessionId, token.generation, this.policy);
    switch (outcome.kind) {
      case 'unknown':
        throw this.refused(RefreshOutcome.Invalid, AuthErrorCode.RefreshTokenInvalid, { reason: 'unknown token' });
      case 'expired':
        await this.refuseIfDisabled(outcome.userId);
        throw this.refused(RefreshOutcome.Expired, AuthErrorCode.RefreshTokenExpired);
      case 'revoked':
        // Disabling revoked the session: say why, for as long as the account stays disabled.
        await this.refuseIfDisabled(outcome.userId);
        throw this.refused(RefreshOutcome.Revoked, AuthErrorCode.SessionRevoked, { reason: 'refresh of a revoked session' });
      case 'reused':
        this.events.emit({
          type: AuthEventType.RefreshReuseDetected,
          userId: outcome.revocation?.userId,
          sessionId: token.sessionId,
          ...client,
          detail: { generation: token.generation },
        });
        if (outcome.revocation) this.remember([outcome.revocation], client);
        await this.refuseIfDisabled(outcome.userId);
        throw this.refused(RefreshOutcome.Reused, AuthErrorCode.RefreshTokenReused, { reason: `family ${outcome.revocation?.sessionId ?? 'already'} revoked` });
    }
    const { roles, extraClaims } = await this.issuingUserOf(outcome);
    const issued = this.issue(outcome.session, roles, extraClaims);
    this.outcomes.refresh(outcome.kind === 'rotated' ? RefreshOutcome.Rotated : RefreshOutcome.Grace);
    return issued;
  }

  /** The roles (and extra claims) of the refreshing session's user, who must still exist and be enabled. */
  private async issuingUserOf(outcome: { session: RotatedSession; user?: RotatingUser | null }): Promise<{ roles: string[]; extraClaims?: Record<string, unknown> }> {
    // extraClaims may read any field of the user: then the user comes whole from the UserStore.
    if (outcome.user !== undefined && !this.extraClaims) return { roles: this.refreshable(outcome.user).roles };
    const user = this.refreshable(await this.users.findById(outcome.session.userId));
    return { roles: user.roles, extraClaims: await this.extraClaimsOf(user) };
  }

  private refreshable<User extends RotatingUser>(user: User | null | undefined): User {
    if (!user) throw this.refused(RefreshOutcome.Invalid, AuthErrorCode.RefreshTokenInvalid, { reason: 'user gone' });
    if (user.disabledAt) throw this.disabled();
    return user;
  }

  private refused(outcome: RefreshOutcome, code: AuthErrorCode, options?: AuthErrorOptions): AuthError {
    this.outcomes.refresh(outcome);
    return new AuthError(code, options);
  }

  /** The session a refresh token (current or already rotated) belongs to: it names it under the MAC. */
  sessionIdOf(refreshToken: string): string {
    const token = this.codec.parse(refreshToken);
    if (!token) throw new AuthError(AuthErrorCode.RefreshTokenInvalid, { reason: 'malformed or forged' });
    return token.sessionId;
  }

  /** Ends a session; already-ended sessions are left as they are. */
  async end(sessionId: string, reason: RevocationReason, client?: ClientInfo): Promise<void> {
    this.remember(await this.store.revoke(sessionId, reason), client);
  }

  /** Ends one of the user's own sessions; session_not_found when it is not one of their live ones. */
  async endOwn(userId: string, sessionId: string, client?: ClientInfo): Promise<void> {
    await this.endExisting(sessionId, 'deleted', client, { userId });
  }

  /** An administrator ends anyone's session; session_not_found when it is not a live one. */
  async endAsAdmin(sessionId: string, actor: string | undefined, client?: ClientInfo): Promise<void> {
    await this.endExisting(sessionId, 'admin', client, { actor });
  }

  /** Ends every session of the user but `keepSessionId`; `actor`: the administrator who did, if one did. */
  async endAll(userId: string, reason: RevocationReason, keepSessionId?: string, client?: ClientInfo, actor?: string): Promise<void> {
    this.remember(await this.store.revokeAllOfUser(userId, reason, keepSessionId), client, actor);
  }

  listLive(userId: string): Promise<SessionRecord[]> {
    return this.store.listLive(userId, this.config.refreshIdleTtl);
  }

  private async endExisting(sessionId: string, reason: RevocationReason, client: ClientInfo | undefined, by: { userId?: string; actor?: string }): Promise<void> {
    const revoked = UUID.test(sessionId) ? await this.store.revoke(sessionId, reason, by.userId) : [];
    if (!revoked.length) throw new AuthError(AuthErrorCode.SessionNotFound);
    this.remember(revoked, client, by.actor);
  }

  private async refuseIfDisabled(userId: string): Promise<void> {
    if ((await this.users.findById(userId))?.disabledAt) throw this.disabled();
  }

  /** A disabled account's tokens count as revoked ones. */
  private disabled(): AuthError {
    return this.refused(RefreshOutcome.Revoked, AuthErrorCode.AccountDisabled, { reason: 'refresh of a disabled account' });
  }

  private async extraClaimsOf(user: StoredUser): Promise<Record<string, unknown> | undefined> {
    return this.extraClaims ? checkExtraClaims(await this.extraClaims(user)) : undefined;
  }

  private issue(session: RotatedSession, roles: string[], extraClaims: Record<string, unknown> | undefined): IssuedTokens {
    const { accessToken, expiresIn } = this.accessTokens.issue({ userId: session.userId, sessionId: session.id, roles }, extraClaims);
    // Both ends measured on the database's clock: lastUsedAt was just set to its "now".
    const untilAbsoluteEnd = Math.floor((session.expiresAt.getTime() - session.lastUsedAt.getTime()) / 1000);
    return {
      accessToken,
      expiresIn,
      refreshToken: this.codec.tokenFor(session.id, session.generation),
      refreshTokenExpiresIn: Math.max(0, Math.min(untilAbsoluteEnd, this.config.refreshIdleTtl)),
      sessionId: session.id,
    };
  }

  /**
   * Access tokens of revoked sessions are refused from now on, on this instance without waiting for
   * the feed; each revocation is a security event.
   */
  private remember(revocations: Revocation[], client?: ClientInfo, actor?: string): void {
    for (const { sessionId, userId, revokedAt, reason } of revocations) {
      this.revokedSessions.add([sessionId], revokedAt.getTime());
      const detail: AuthEventDetail = actor === undefined ? { reason } : { reason, actor };
      this.events.emit({ type: AuthEventType.SessionRevoked, userId, sessionId, ...client, at: revokedAt, detail });
    }
  }
}
