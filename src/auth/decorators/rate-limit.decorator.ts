import { SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_KEY } from '../auth.constants.js';
import type { RateLimitPolicy } from '../guards/rate-limit.policies.js';

/** Limits a route per client address and, when the policy says so, per account (RateLimitGuard). */
export const RateLimit = (policy: RateLimitPolicy): MethodDecorator => SetMetadata(RATE_LIMIT_KEY, policy);
