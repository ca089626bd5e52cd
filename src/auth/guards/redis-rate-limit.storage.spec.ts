import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { RedisRateLimitStorage } from './redis-rate-limit.storage.js';

// A real Redis (.ci/run starts one); in CI its absence is a failure, elsewhere this is skipped.
const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL && process.env.CI) throw new Error('TEST_REDIS_URL is not set: the Redis rate-limit tests need a Redis (see .ci/run)');

(REDIS_URL ? describe : describe.skip)('RedisRateLimitStorage', () => {
  const keyPrefix = `test:${randomUUID()}:`;
  const Storage = RedisRateLimitStorage.forUrl(REDIS_URL!, { keyPrefix });
  const storages = [new Storage(), new Storage()] as RedisRateLimitStorage[];
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL!);
    await Promise.all(storages.map((storage) => storage.onModuleInit()));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await Promise.all(storages.map((storage) => storage.onApplicationShutdown()));
    redis.disconnect();
  });

  it('counts together across storages (processes), under its key prefix', async () => {
    const window = { max: 2, windowMs: 60_000 };
    const [first, second] = storages.map((storage) => storage.limiter('login:client', window));
    await first.consume('198.51.100.7');
    await second.consume('198.51.100.7');
    await expect(first.consume('198.51.100.7')).rejects.toBeInstanceOf(RateLimiterRes);
    expect(await redis.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}login:client:198.51.100.7`]);
    expect(await redis.pttl(`${keyPrefix}login:client:198.51.100.7`)).toBeGreaterThan(0);
  });
});
