import { Injectable } from '@nestjs/common';
import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
import type { RateWindow } from './rate-limit.policies.js';

/**
 * Where rate-limit counters live: a port. It hands out one `rate-limiter-flexible` limiter per named
 * window; bind another implementation (the `rateLimitStorage` extra) to count in Redis, say, so every
 * instance counts together.
 */
export abstract class RateLimitStorage {
  abstract limiter(name: string, window: RateWindow): RateLimiterAbstract;
}

/** Counters in this process's memory; each key is forgotten when its window ends. */
@Injectable()
export class MemoryRateLimitStorage extends RateLimitStorage {
  limiter(name: string, window: RateWindow): RateLimiterAbstract {
    return new RateLimiterMemory({ keyPrefix: name, points: window.max, duration: Math.ceil(window.windowMs / 1000) });
  }
}
