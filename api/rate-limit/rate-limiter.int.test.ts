import Redis from 'ioredis';
import { uniqueName } from '../../e2e/support/services';
import { RedisRateLimiter } from './rate-limiter';
import { takeToken, type BucketState } from './token-bucket';

/** The Lua token bucket in the real Redis agrees with the TypeScript model, and fails open. */
describe('Redis token bucket', () => {
  const redis = new Redis(process.env.REDIS_URL as string);
  const prefix = `${uniqueName('ratetest')}:`;

  // The limiter answers only over a ready connection (see RedisRateLimiter.take).
  beforeAll(async () => void (await redis.ping()));
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('matches the reference model step by step on the same clock', async () => {
    let now = 1_700_000_000_000;
    const limiter = new RedisRateLimiter(redis, { prefix, ratePerSec: 3, burst: 4, nowMs: () => now });
    let model: BucketState | undefined;
    // A seeded walk of request times: bursts, gaps shorter and longer than a token's 333 ms.
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let allowed = 0;
    for (let i = 0; i < 200; i++) {
      now += rand() < 0.5 ? 0 : Math.floor(rand() * 700);
      const expected = takeToken(model, now, 3, 4);
      model = expected.state;
      const got = await limiter.take('walk');
      expect(got).toEqual({ allowed: expected.allowed, remaining: expected.remaining, retryAfterMs: expected.retryAfterMs });
      if (got?.allowed) allowed++;
    }
    expect(allowed).toBeGreaterThan(10);
    expect(allowed).toBeLessThan(200);
  });

  it('uses the Redis clock when none is given, and expires idle buckets', async () => {
    const limiter = new RedisRateLimiter(redis, { prefix, ratePerSec: 1, burst: 2 });
    expect((await limiter.take('clock'))?.allowed).toBe(true);
    expect((await limiter.take('clock'))?.allowed).toBe(true);
    const third = await limiter.take('clock');
    expect(third?.allowed).toBe(false);
    expect(third!.retryAfterMs).toBeGreaterThan(0);
    expect(third!.retryAfterMs).toBeLessThanOrEqual(1000);
    const ttl = await redis.pttl(`${prefix}ratelimit:clock`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3000);
  });

  it('answers undefined (fail open) when Redis is not connected or the script fails', async () => {
    const idle = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
    expect(await new RedisRateLimiter(idle, { prefix, ratePerSec: 1, burst: 1 }).take('x')).toBeUndefined();
    idle.disconnect();
    await redis.set(`${prefix}ratelimit:wrongtype`, 'x'); // HMGET on a string fails inside the script
    expect(await new RedisRateLimiter(redis, { prefix, ratePerSec: 1, burst: 1 }).take('wrongtype')).toBeUndefined();
  });
});
