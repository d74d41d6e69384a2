import type { Redis } from 'ioredis';
import { TOKEN_BUCKET_LUA } from './token-bucket';

/** Port of the per-key limiter; `undefined` means "could not decide" (the store is unreachable). */
export interface RateLimiter {
  take(bucket: string): Promise<{ allowed: boolean; remaining: number; retryAfterMs: number } | undefined>;
}

type WithBucket = Redis & { takeToken(key: string, rate: number, burst: number, now: string): Promise<[number, number, number]> };

/** The token bucket of token-bucket.ts run atomically in Redis, one bucket per key id. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithBucket;

  constructor(redis: Redis, private readonly opts: { prefix: string; ratePerSec: number; burst: number; nowMs?: () => number }) {
    // defineCommand sends EVALSHA and falls back to EVAL after a Redis restart emptied its script cache.
    if (!('takeToken' in redis)) redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = redis as WithBucket;
  }

  async take(bucket: string) {
    // Not connected: answer at once instead of queueing behind reconnect attempts.
    if (this.redis.status !== 'ready') return undefined;
    try {
      const now = this.opts.nowMs ? String(this.opts.nowMs()) : '';
      const [allowed, retryAfterMs, remaining] = await this.redis.takeToken(`${this.opts.prefix}ratelimit:${bucket}`, this.opts.ratePerSec, this.opts.burst, now);
      return { allowed: allowed === 1, remaining, retryAfterMs };
    } catch {
      return undefined;
    }
  }
}
