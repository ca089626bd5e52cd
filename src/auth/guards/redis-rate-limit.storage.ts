import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateWindow } from './rate-limit.policies.js';
import { RateLimitStorage } from './rate-limit.storage.js';

export interface RedisRateLimitStorageOptions {
  /** Put before every key, so a shared Redis keeps these counters apart. Default `auth:rate-limit:`. */
  keyPrefix?: string;
}

/**
 * Counters in Redis, so every instance and worker counts together. When Redis is unreachable each
 * process counts in its own memory (same windows), logs it once, and goes back to Redis by itself
 * when it answers again. Needs the `ioredis` package. Bind it with
 * `rateLimitStorage: RedisRateLimitStorage.forUrl(url)`, or as a subclass whose constructor injects
 * your configuration and calls `super(url, options)`. The connection closes at app shutdown.
 */
export abstract class RedisRateLimitStorage extends RateLimitStorage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimitStorage');
  private readonly keyPrefix: string;
  private client: Redis | undefined;
  private fellBack = false;
  private closing = false;

  /** A `rateLimitStorage` class counting in the Redis at `url` (`redis://` or `rediss://`). */
  static forUrl(url: string, options: RedisRateLimitStorageOptions = {}): Type<RateLimitStorage> {
    @Injectable()
    class UrlRedisRateLimitStorage extends RedisRateLimitStorage {
      constructor() {
        super(url, options);
      }
    }
    return UrlRedisRateLimitStorage;
  }

  protected constructor(
    private readonly url: string,
    options: RedisRateLimitStorageOptions,
  ) {
    super();
    this.keyPrefix = options.keyPrefix ?? 'auth:rate-limit:';
  }

  async onModuleInit(): Promise<void> {
    // Loaded here, not imported above: ioredis is an optional peer, needed only by hosts that use Redis.
    const { Redis } = await import('ioredis').catch((error: Error) => {
      throw new Error(`RedisRateLimitStorage needs the ioredis package (npm install ioredis): ${error.message}`);
    });
    this.client = new Redis(this.url, {
      lazyConnect: true,
      // Fail at once while disconnected (the limiter then counts in memory) rather than queue the request.
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: 1000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    this.client.on('ready', () => this.answered());
    // Without an 'error' listener ioredis would crash the process; the 'close' covers a dropped link.
    this.client.on('error', (error: Error & { code?: string }) => this.unreachable(error.message || error.code || error.name));
    this.client.on('close', () => this.unreachable('connection closed'));
    // Starts even when Redis is down: the counters are then in memory until it answers.
    await this.client.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.client?.disconnect();
  }

  limiter(name: string, window: RateWindow): RateLimiterAbstract {
    if (!this.client) throw new Error('RedisRateLimitStorage is used before the module was initialised');
    const duration = Math.ceil(window.windowMs / 1000);
    return new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix: `${this.keyPrefix}${name}`,
      points: window.max,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points: window.max, duration }),
    });
  }

  private unreachable(reason: string): void {
    if (this.fellBack || this.closing) return;
    this.fellBack = true;
    this.logger.warn(`Redis unreachable (${reason}): rate limits are counted in this process only until it answers`);
  }

  private answered(): void {
    if (!this.fellBack) return;
    this.fellBack = false;
    this.logger.log('Redis answers again: rate limits are counted in Redis again');
  }
}
