import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { RATE_LIMIT_KEY } from '../auth.constants.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { RateLimitGuard } from '../guards/rate-limit.guard.js';
import type { RATE_LIMITS, RateLimitPolicy } from '../guards/rate-limit.policies.js';
import { ApiErrors } from './api-errors.decorator.js';

/**
 * Limits a route per client address and, when the policy says so, per account, and documents its 429.
 * A policy name (`'login'`, `'register'`, `'refresh'`, `'password'`) takes the module's configured policy.
 * Guards listed by decorators below this one run before it: put it last, right above the method, so
 * it counts before any token or password work; but a policy counted per user (`account: 'user'`,
 * as `'password'`) goes above `@Authenticated()`, which must know the caller first.
 */
export const RateLimit = (policy: RateLimitPolicy | keyof typeof RATE_LIMITS): MethodDecorator =>
  applyDecorators(SetMetadata(RATE_LIMIT_KEY, policy), UseGuards(RateLimitGuard), ApiErrors(AuthErrorCode.RateLimited));
