import { Injectable, Logger } from '@nestjs/common';
import { RevokedSessions } from '../sessions/revoked-sessions.js';
import { ListenerList } from './listener-list.js';

/** How a `POST /auth/login` that reached the password check (or the rate limit) ended. */
export const LoginOutcome = {
  Succeeded: 'succeeded',
  /** Unknown email or wrong password (or a password change won the race). */
  Failed: 'failed',
  /** Refused by the login rate limit. */
  Throttled: 'throttled',
  /** The right password for a disabled account. */
  Disabled: 'disabled',
} as const;
export type LoginOutcome = (typeof LoginOutcome)[keyof typeof LoginOutcome];

/** How a presented refresh token was answered (API.md "Rotation and reuse detection"). */
export const RefreshOutcome = {
  Rotated: 'rotated',
  /** A token rotated less than the grace ago: the family's current token again. */
  Grace: 'grace',
  /** A rotated token came back: its family is revoked. */
  Reused: 'reused',
  Expired: 'expired',
  /** Its family was revoked already (or its account is disabled). */
  Revoked: 'revoked',
  /** Malformed, forged, unknown, or its account gone. */
  Invalid: 'invalid',
} as const;
export type RefreshOutcome = (typeof RefreshOutcome)[keyof typeof RefreshOutcome];

/**
 * Told every outcome, synchronously on the request path: keep it to a counter increment. What it
 * throws is logged, never passed on.
 */
export interface AuthOutcomeObserver {
  login?(outcome: LoginOutcome): void;
  refresh?(outcome: RefreshOutcome): void;
}

/**
 * The outcomes of logins and refreshes, for a host's own metrics (the service feeds Prometheus
 * counters from it): far more of them than security events, so they are counted, never stored.
 */
@Injectable()
export class AuthOutcomes {
  private readonly logger = new Logger(AuthOutcomes.name);
  private readonly observers = new ListenerList<AuthOutcomeObserver>();

  constructor(private readonly revokedSessions: RevokedSessions) {}

  /** Tells `observer` every outcome from now on; returns the function that stops it. */
  observe(observer: AuthOutcomeObserver): () => void {
    return this.observers.add(observer);
  }

  /** Whether this process's revocation feed is connected now (while it is not, revocations elsewhere are not seen). */
  get revocationFeedConnected(): boolean {
    return this.revokedSessions.feedConnected;
  }

  /** Called by the package's login flow. */
  login(outcome: LoginOutcome): void {
    for (const observer of this.observers.all) this.tell(() => observer.login?.(outcome));
  }

  /** Called by the package's refresh flow. */
  refresh(outcome: RefreshOutcome): void {
    for (const observer of this.observers.all) this.tell(() => observer.refresh?.(outcome));
  }

  private tell(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.error(`an outcome observer failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
