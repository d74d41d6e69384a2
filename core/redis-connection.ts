import Redis, { type RedisOptions } from 'ioredis';
import { errorMessage } from './errors';
import type { Logger } from './logger';

/**
 * A Redis client that reconnects forever in the background and logs its connection errors at most
 * every 10 s (without a listener ioredis prints each one). Callers choose how commands behave
 * while disconnected, because the cache (fail fast, open) and key checks (wait briefly, closed) differ.
 */
export function connectRedis(url: string, log: Logger, what: string, options: RedisOptions): Redis {
  const redis = new Redis(url, { connectTimeout: 2_000, retryStrategy: (times) => Math.min(times * 200, 2_000), ...options });
  let lastLog = 0;
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log.warn(`redis connection error (${what})`, { err: errorMessage(err) });
  });
  return redis;
}
