import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { RATE_LIMIT_KEY } from '../auth.constants.js';
import type { AuthRequest } from '../authenticated-request.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { AuthSettings } from '../options/auth-settings.js';
import type { RATE_LIMITS, RateLimitPolicy, RateWindow } from './rate-limit.policies.js';
import { RateLimitStorage } from './rate-limit.storage.js';

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

  /** The email as the routes normalise it; absent or malformed emails are only limited per client. */
  protected accountKey(request: AuthRequest): string | undefined {
    const email = (request.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' && email.length <= 254 ? email.trim().toLowerCase() : undefined;
  }

  private async enforce(policy: RateLimitPolicy, request: AuthRequest): Promise<boolean> {
    await this.count(`${policy.name}:client`, this.clientKey(request), policy.perClient);
    const account = policy.perAccount ? this.accountKey(request) : undefined;
    if (policy.perAccount && account !== undefined) await this.count(`${policy.name}:account`, account, policy.perAccount);
    return true;
  }

  private async count(name: string, key: string, window: RateWindow): Promise<void> {
    try {
      await this.limiter(name, window).consume(key);
    } catch (rejection) {
      // The limiter rejects with its state when over the limit, with an Error when its store failed.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
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
