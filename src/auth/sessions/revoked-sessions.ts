import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Configuration } from '../../config/configuration.js';

/**
 * Sessions revoked recently enough that an access token of theirs may still be unexpired, held in
 * memory so the guard refuses those tokens without a database round-trip. An entry is dropped once
 * every access token of its session has expired (access-token lifetime plus clock skew after revocation).
 */
@Injectable()
export class RevokedSessions implements OnModuleDestroy {
  // Insertion order is revocation order, so pruning stops at the first live entry.
  private readonly forgetAt = new Map<string, number>();
  private readonly retentionMs: number;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(config: ConfigService<Configuration, true>) {
    const tokens = config.get('tokens', { infer: true });
    this.retentionMs = (tokens.accessTokenTtl + tokens.clockSkew + 1) * 1000;
    this.pruneTimer = setInterval(() => this.prune(Date.now()), 60_000).unref();
  }

  has(sessionId: string): boolean {
    return this.forgetAt.has(sessionId);
  }

  /** Records revocations; `revokedAt` in ms since the epoch (the database's clock). */
  add(sessionIds: Iterable<string>, revokedAt = Date.now()): void {
    const forgetAt = revokedAt + this.retentionMs;
    if (forgetAt <= Date.now()) return;
    for (const id of sessionIds) {
      this.forgetAt.delete(id);
      this.forgetAt.set(id, forgetAt);
    }
  }

  get size(): number {
    return this.forgetAt.size;
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
