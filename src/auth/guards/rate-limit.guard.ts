import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type {} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Configuration } from '../../config/configuration.js';
import { RATE_LIMIT_KEY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import type { RateLimitPolicy, RateWindow } from './rate-limit.policies.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type KeyOf = (request: FastifyRequest) => string;

/**
 * Enforces @RateLimit() policies with @fastify/rate-limit's counters (in memory per instance; its
 * store option takes Redis to share them). Runs before validation and before any password hashing.
 * Extend it and override `clientKey` or `accountKey` to count differently.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly enabled: boolean;
  private readonly limiters = new Map<string, Limiter>();

  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    config: ConfigService<Configuration, true>,
  ) {
    this.enabled = config.get('http', { infer: true }).rateLimit;
  }

  // Synchronous for unlimited routes: it runs on every request, the hot authenticated ones included.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const policy = this.reflector.get<RateLimitPolicy | undefined>(RATE_LIMIT_KEY, context.getHandler());
    return !this.enabled || !policy ? true : this.enforce(policy, context.switchToHttp().getRequest<FastifyRequest>());
  }

  protected clientKey(request: FastifyRequest): string {
    return request.ip;
  }

  /** The email as the routes normalise it; absent or malformed emails are only limited per client. */
  protected accountKey(request: FastifyRequest): string | undefined {
    const email = (request.body as { email?: unknown } | undefined)?.email;
    return typeof email === 'string' && email.length <= 254 ? email.trim().toLowerCase() : undefined;
  }

  private async enforce(policy: RateLimitPolicy, request: FastifyRequest): Promise<boolean> {
    await this.check(`${policy.name}:client`, policy.perClient, request, (each) => this.clientKey(each));
    if (policy.perAccount && this.accountKey(request) !== undefined) {
      await this.check(`${policy.name}:account`, policy.perAccount, request, (each) => this.accountKey(each)!);
    }
    return true;
  }

  private async check(name: string, window: RateWindow, request: FastifyRequest, keyOf: KeyOf): Promise<void> {
    const result = await this.limiter(name, window, keyOf)(request);
    if (!result.isAllowed && result.isExceeded) {
      throw new AuthError(AuthErrorCode.RateLimited, { reason: name, retryAfter: result.ttlInSeconds });
    }
  }

  // Created on first use: the plugin is registered on Fastify after the guards are built.
  private limiter(name: string, window: RateWindow, keyOf: KeyOf): Limiter {
    let limiter = this.limiters.get(name);
    if (!limiter) {
      const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
      limiter = fastify.createRateLimit({ max: window.max, timeWindow: window.windowMs, keyGenerator: (request) => `${name}:${keyOf(request)}` });
      this.limiters.set(name, limiter);
    }
    return limiter;
  }
}
