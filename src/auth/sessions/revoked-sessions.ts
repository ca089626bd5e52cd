import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { AuthSettings } from '../options/auth-settings.js';

/**
 * Sessions revoked recently enough that an access token of theirs may still be unexpired, held in
 * memory so the guard refuses those tokens without a database round-trip. An entry is dropped once
 * every access token of its session has expired (access-token lifetime plus clock skew after revocation).
 *
 * The memory is only as good as the feed that fills it (RevocationFeed): while the feed is down for
 * longer than REVOCATION_MAX_STALENESS, `assertUsable` refuses (fails closed) instead of trusting it.
 */
@Injectable()
export class RevokedSessions implements OnModuleDestroy {
  // Insertion order is (roughly) revocation order, so pruning stops at the first live entry.
  private readonly forgetAt = new Map<string, number>();
  private readonly retentionMs: number;
  private readonly maxStalenessMs: number;
  private readonly pruneTimer: NodeJS.Timeout;
  /** When the feed stopped being known-good; 0 while it is up. Starts down: nothing is loaded yet. */
  private downSince = -Infinity;

  constructor(settings: AuthSettings) {
    const { tokens } = settings;
    this.retentionMs = (tokens.accessTokenTtl + tokens.clockSkew + 1) * 1000;
    this.maxStalenessMs = settings.revocationMaxStaleness * 1000;
    this.pruneTimer = setInterval(() => this.prune(Date.now()), 60_000).unref();
  }

  /** The guard's check: throws session_revoked, or service_unavailable when the memory may be stale. */
  assertUsable(sessionId: string): void {
    if (this.downSince !== 0 && Date.now() - this.downSince > this.maxStalenessMs) {
      throw new AuthError(AuthErrorCode.ServiceUnavailable, { reason: 'revocation feed stale' });
    }
    if (this.forgetAt.has(sessionId)) {
      throw new AuthError(AuthErrorCode.SessionRevoked, { reason: 'session revoked', bearer: true });
    }
  }

  /** Records revocations; `revokedAt` in ms since the epoch. */
  add(sessionIds: Iterable<string>, revokedAt = Date.now()): void {
    const forgetAt = revokedAt + this.retentionMs;
    if (forgetAt <= Date.now()) return;
    for (const id of sessionIds) {
      this.forgetAt.delete(id);
      this.forgetAt.set(id, forgetAt);
    }
  }

  /** How far back a (re)loading feed must look: older revocations can no longer matter. */
  get window(): Date {
    return new Date(Date.now() - this.retentionMs);
  }

  /** Whether the feed is up now. */
  get feedConnected(): boolean {
    return this.downSince === 0;
  }

  feedUp(): void {
    this.downSince = 0;
  }

  feedDown(): void {
    if (this.downSince === 0) this.downSince = Date.now();
  }

  onModuleDestroy(): void {
    clearInterval(this.pruneTimer);
  }

  private prune(now: number): void {
    for (const [id, forgetAt] of this.forgetAt) {
      if (forgetAt > now) break;
      this.forgetAt.delete(id);
    }
  }
}
