import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { RATE_LIMIT_KEY } from '../auth.constants.js';
import type { AuthenticatedRequest, AuthRequest } from '../authenticated-request.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { clientInfoOf } from '../client-info.js';
import { AuthEventType } from '../events/auth-event.js';
import { AuthEvents } from '../events/auth-events.js';
import { AuthOutcomes, LoginOutcome } from '../events/auth-outcomes.js';
import { AuthSettings } from '../options/auth-settings.js';
import type { RATE_LIMITS, RateLimitPolicy, RateWindow } from './rate-limit.policies.js';
import { RateLimitStorage } from './rate-limit.storage.js';

// The longest email the routes accept; the account key never grows past it.
const MAX_EMAIL_LENGTH = 254;

/**
 * Enforces @RateLimit() policies, per client address and per account, with `rate-limiter-flexible`
 * counters from the RateLimitStorage (in memory per process unless another storage is bound).
 * Guards run before pipes and handlers, so limits are counted before validation and any hashing.
 * Extend it and override `clientKey` or `accountKey` to count differently.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly enabled: boolean;
  private readonly policies: Record<keyof typeof RATE_LIMITS, RateLimitPolicy>;
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly reflector: Reflector,
    private readonly storage: RateLimitStorage,
    private readonly events: AuthEvents,
    private readonly outcomes: AuthOutcomes,
    settings: AuthSettings,
  ) {
    this.enabled = settings.rateLimit.enabled;
    this.policies = settings.rateLimit.policies;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.reflector.get<RateLimitPolicy | keyof typeof RATE_LIMITS | undefined>(RATE_LIMIT_KEY, context.getHandler());
    if (!this.enabled || !policy) return true;
    return this.enforce(typeof policy === 'string' ? this.policies[policy] : policy, context.switchToHttp().getRequest<AuthRequest>());
  }

  protected clientKey(request: AuthRequest): string {
    return request.ip ?? 'unknown';
  }

  /**
   * The verified caller's user id for `account: 'user'` policies; otherwise the email of the body,
   * trimmed, in Unicode NFC and lower-cased, then cut to the longest valid email, so no padding or
   * case escapes the count. No email (or not a string): only limited per client.
   */
  protected accountKey(request: AuthRequest, policy: RateLimitPolicy): string | undefined {
    if (policy.account === 'user') {
      const user = (request as Partial<AuthenticatedRequest>).user;
      // A guard ordering bug, not bad input: fail loudly rather than silently skip the per-account count.
      if (!user) throw new Error(`@RateLimit('${policy.name}') counts per user but ran before authentication: put it above @Authenticated()`);
      return user.userId;
    }
    const email = (request.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' ? email.trim().normalize('NFC').toLowerCase().slice(0, MAX_EMAIL_LENGTH) : undefined;
  }

  private async enforce(policy: RateLimitPolicy, request: AuthRequest): Promise<boolean> {
    await this.count(policy, 'client', this.clientKey(request), policy.perClient, request);
    const account = policy.perAccount ? this.accountKey(request, policy) : undefined;
    if (policy.perAccount && account !== undefined) await this.count(policy, 'account', account, policy.perAccount, request);
    return true;
  }

  private async count(policy: RateLimitPolicy, scope: 'client' | 'account', key: string, window: RateWindow, request: AuthRequest): Promise<void> {
    const name = `${policy.name}:${scope}`;
    try {
      await this.limiter(name, window).consume(key);
    } catch (rejection) {
      // The limiter rejects with its state when over the limit, with an Error when its store failed.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // The account is never named: a throttled login may be for an email no account has.
      if (policy === this.policies.login) {
        this.events.emit({ type: AuthEventType.LoginThrottled, ...clientInfoOf(request), detail: { scope } });
        this.outcomes.login(LoginOutcome.Throttled);
      }
      throw new AuthError(AuthErrorCode.RateLimited, { reason: name, retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) });
    }
  }

  // Keyed by name and window: one policy name may be given different windows by different routes.
  private limiter(name: string, window: RateWindow): RateLimiterAbstract {
    const id = `${name}:${window.max}:${window.windowMs}`;
    let limiter = this.limiters.get(id);
    if (!limiter) this.limiters.set(id, (limiter = this.storage.limiter(id, window)));
    return limiter;
  }
}
