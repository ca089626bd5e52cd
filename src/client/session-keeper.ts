import { type AccessTokenClaims, readClaims, ServerClock } from './access-token.js';
import { AuthClientError } from './auth-client.error.js';
import type { AuthSession, SessionChange, SessionEndReason, SessionListener, TokenStorage } from './auth-client.types.js';
import type { RefreshLock } from './refresh-lock.js';
import { refreshDueAt, RefreshTimer } from './refresh-timer.js';
import { openTabChannel, type SharedSession, type TabChannel, type TabMessage } from './tab-channel.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/** The server's answer to a refresh: a new pair, or a final refusal. Anything else is thrown. */
export type RefreshAnswer = { pair: TokenPair; sentAt: number } | { ended: SessionEndReason };

export interface SessionKeeperOptions {
  /** POST /auth/refresh with this token (body transport) or the cookie. */
  refresh(refreshToken: string | undefined): Promise<RefreshAnswer>;
  /** Body transport: the refresh token is the client's to keep. */
  keepsRefreshToken: boolean;
  storage?: TokenStorage;
  /** Shares the session with other tabs under this name; none without one. */
  channelName?: string;
  lock: RefreshLock;
  autoRefresh: boolean;
  tabSyncMs: number;
}

interface Held extends SharedSession {
  claims: AccessTokenClaims;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EventTargetLike {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}

/** Where a page hears it was restored (window: pageshow) or unfrozen (document: resume); nothing outside a page. */
function wakeTargets(): { window?: EventTargetLike; document?: EventTargetLike } {
  const page = globalThis as { window?: EventTargetLike; document?: EventTargetLike };
  return { window: page.window, document: page.document };
}

function publicSession(held: Held): AuthSession {
  return { sessionId: held.claims.sid, userId: held.claims.sub, roles: held.claims.roles, accessTokenExpiresAt: held.expiresAt };
}

function shared({ accessToken, expiresAt, obtainedAt, sentAt, refreshToken }: Held): SharedSession {
  return { accessToken, expiresAt, obtainedAt, sentAt, refreshToken };
}

/**
 * One client's session: the tokens (in memory), when and how they are refreshed, and what the
 * other tabs are told. Every refresh is single-flight (one request however many callers wait) and,
 * across tabs, serialised by the lock; before presenting a refresh token a tab that may have missed
 * news (it slept, or waited for the lock) first listens for the other tabs' newer session, so it
 * never presents a token they already rotated. Final refusals end the session once.
 */
export class SessionKeeper {
  private current: Held | undefined;
  private status: 'unknown' | 'signed_in' | 'signed_out' = 'unknown';
  /** obtainedAt of the newest session known here, or when the last one ended: older news is ignored. */
  private newest = 0;
  /** The session last ended here or in another tab: it cannot come back, whatever its timestamps say. */
  private ended: string | undefined;
  /** Bumped whenever the session is replaced or ended, so a refresh answer for an old one is dropped. */
  private epoch = 0;
  private inflight: Promise<Held | undefined> | undefined;
  /** The refresh token this tab last wrote to storage: a different one there was written by someone else, later. */
  private written: string | undefined;
  private woke = false;
  private failures = 0;
  private readonly clock = new ServerClock();
  private readonly listeners = new Set<SessionListener>();
  private readonly timer = new RefreshTimer((late) => this.refreshAhead(late));
  private readonly channel: TabChannel | undefined;
  private readonly onWake = () => (this.woke = true);

  constructor(private readonly options: SessionKeeperOptions) {
    this.channel = options.channelName ? openTabChannel(options.channelName, (message) => this.receive(message)) : undefined;
    if (!this.channel) return;
    this.channel.post({ type: 'hello' });
    // A page restored from the back-forward cache or unfrozen may have missed the other tabs' news.
    wakeTargets().window?.addEventListener?.('pageshow', this.onWake);
    wakeTargets().document?.addEventListener?.('resume', this.onWake);
  }

  get session(): AuthSession | null {
    return this.current ? publicSession(this.current) : null;
  }

  onChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A valid access token, refreshed first when needed; null when signed out. */
  async accessToken(): Promise<string | null> {
    if (this.status === 'signed_out') return null;
    const held = this.current;
    if (held && Date.now() < held.expiresAt) return held.accessToken;
    // Expired here means no refresh ran in time: this tab slept, and may have missed news.
    return (await this.refresh(held, held !== undefined))?.accessToken ?? null;
  }

  /** The session once known (restoring it from the cookie, storage or another tab when needed). */
  async resolve(): Promise<AuthSession | null> {
    await this.accessToken();
    return this.session;
  }

  /** The server called `token` expired: a newer token, refreshing once for every caller at the same time. */
  async afterExpired(token: string): Promise<string | null> {
    const held = this.current;
    if (!held) return null;
    if (held.accessToken !== token && Date.now() < held.expiresAt) return held.accessToken;
    return (await this.refresh(held, false))?.accessToken ?? null;
  }

  /** The server refused `token` as revoked: its session, if still ours, is over. */
  afterRevoked(token: string): void {
    const sid = readClaims(token)?.sid;
    if (sid !== undefined && this.current?.claims.sid === sid) this.end('session_revoked');
  }

  async signedIn(pair: TokenPair, sentAt: number): Promise<AuthSession> {
    return publicSession(await this.take(pair, sentAt));
  }

  /** Body transport: the refresh token to present now; undefined with the cookie. */
  async presentable(): Promise<string | undefined> {
    if (!this.options.keepsRefreshToken) return undefined;
    const stored = await this.options.storage?.get();
    // Someone sharing the storage (another tab or process) wrote a newer token since this tab last did.
    if (stored && stored !== this.written) return stored;
    return this.current?.refreshToken;
  }

  /** Ends the session here (once), tells the other tabs when it was a live one here, and forgets its tokens. */
  end(reason: SessionEndReason | undefined, at = Date.now(), broadcast = true, sessionId = this.current?.claims.sid): void {
    this.ended = sessionId ?? this.ended;
    if (this.status === 'signed_out') return;
    const wasSignedIn = this.status === 'signed_in';
    this.status = 'signed_out';
    this.current = undefined;
    this.epoch += 1;
    this.newest = Math.max(this.newest, at);
    this.written = undefined;
    this.timer.cancel();
    void Promise.resolve()
      .then(() => this.options.storage?.remove())
      .catch(() => undefined);
    if (wasSignedIn && broadcast) this.channel?.post({ type: 'signed_out', reason, at, sessionId });
    this.emit(null, reason ? { type: 'signed_out', reason } : { type: 'signed_out' });
  }

  close(): void {
    this.timer.cancel();
    this.channel?.close();
    this.listeners.clear();
    wakeTargets().window?.removeEventListener?.('pageshow', this.onWake);
    wakeTargets().document?.removeEventListener?.('resume', this.onWake);
  }

  private refresh(stale: Held | undefined, mayBeStale: boolean): Promise<Held | undefined> {
    this.inflight ??= this.options
      .lock((contended) => this.refreshLocked(stale, mayBeStale || contended))
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async refreshLocked(stale: Held | undefined, mayBeStale: boolean): Promise<Held | undefined> {
    let epoch = this.epoch;
    if (this.status === 'signed_out') return undefined;
    if (this.replaced(stale)) return this.current;
    if (this.channel && (mayBeStale || this.woke || this.status === 'unknown')) {
      // Ask the other tabs for their session and take the newest heard within the window: the lock's
      // previous holder may still be broadcasting its result, or this tab slept through some.
      this.woke = false;
      this.channel.post({ type: 'hello' });
      await sleep(this.options.tabSyncMs);
      if (this.isSignedOut()) return undefined;
      if (this.replaced(stale)) return this.current;
      epoch = this.epoch;
    }
    const refreshToken = await this.presentable();
    if (this.options.keepsRefreshToken && !refreshToken) {
      this.end(undefined);
      return undefined;
    }
    const answer = await this.options.refresh(refreshToken);
    if (epoch !== this.epoch) return this.current;
    if ('ended' in answer) {
      // Restoring, an unknown token (no cookie yet, say) means there was no session to restore.
      const nothingToRestore = this.status === 'unknown' && answer.ended === 'refresh_token_invalid';
      this.end(nothingToRestore ? undefined : answer.ended);
      return undefined;
    }
    return this.take(answer.pair, answer.sentAt);
  }

  // A method, not a field read, so TypeScript does not narrow it across awaits.
  isSignedOut(): boolean {
    return this.status === 'signed_out';
  }

  /** Whether a newer, still valid session than `stale` arrived (from another tab, or a refresh that just ended). */
  private replaced(stale: Held | undefined): boolean {
    const held = this.current;
    return held !== undefined && held !== stale && held.obtainedAt > (stale?.obtainedAt ?? 0) && Date.now() < held.expiresAt;
  }

  private refreshAhead(late: boolean): void {
    const held = this.current;
    if (!held) return;
    this.refresh(held, late).catch(() => {
      // Not a final answer (network, 5xx, 429): try again later, backing off, while nothing newer came.
      this.failures += 1;
      if (this.current === held) this.timer.scheduleIn(Math.min(1000 * 2 ** this.failures, 30_000));
    });
  }

  /** A pair the server just issued: kept (storage), adopted here and told to the other tabs. */
  private async take(pair: TokenPair, sentAt: number): Promise<Held> {
    const held = this.issued(pair, sentAt);
    await this.keep(held);
    this.adopt(held, true);
    return held;
  }

  private issued(pair: TokenPair, sentAt: number): Held {
    const claims = readClaims(pair.accessToken);
    if (!claims) throw new AuthClientError(502, undefined, 'The API answered with an access token this client cannot read.');
    this.clock.observe(claims.iat, sentAt);
    return {
      accessToken: pair.accessToken,
      claims,
      expiresAt: this.clock.localDeadline(claims.exp),
      obtainedAt: Date.now(),
      sentAt,
      refreshToken: this.options.keepsRefreshToken ? pair.refreshToken : undefined,
    };
  }

  private async keep(held: Held): Promise<void> {
    const { storage } = this.options;
    if (!storage || !held.refreshToken) return;
    await storage.set(held.refreshToken);
    this.written = held.refreshToken;
  }

  private adopt(held: Held, broadcast: boolean): void {
    const sameSession = this.current?.claims.sid === held.claims.sid;
    if (!sameSession) this.epoch += 1;
    this.current = held;
    this.status = 'signed_in';
    this.newest = Math.max(this.newest, held.obtainedAt);
    this.failures = 0;
    if (this.options.autoRefresh) this.timer.scheduleAt(refreshDueAt(held.expiresAt, Date.now()));
    if (broadcast) this.channel?.post({ type: 'session', session: shared(held) });
    this.emit(publicSession(held), { type: sameSession ? 'refreshed' : 'signed_in' });
  }

  private receive(message: TabMessage): void {
    if (message.type === 'hello') {
      if (this.current) this.channel?.post({ type: 'session', session: shared(this.current) });
    } else if (message.type === 'signed_out') {
      // Also a session refreshed here after the other tab ended it (the answer beat the message).
      const same = message.sessionId !== undefined && message.sessionId === this.current?.claims.sid;
      if (same || message.at >= (this.current?.obtainedAt ?? 0)) this.end(message.reason, message.at, false, message.sessionId);
    } else if (message.session.obtainedAt > this.newest) {
      const claims = readClaims(message.session.accessToken);
      if (!claims || claims.sid === this.ended) return;
      this.clock.observe(claims.iat, message.session.sentAt);
      const held: Held = { ...message.session, claims };
      if (!this.options.keepsRefreshToken) held.refreshToken = undefined;
      this.adopt(held, false);
      // Per-tab storage (sessionStorage) stays current too; a failure here only costs a later restore.
      this.keep(held).catch(() => undefined);
    }
  }

  private emit(session: AuthSession | null, change: SessionChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(session, change);
      } catch (error) {
        // The app's listener failed: its error surfaces, the session state stays consistent.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
