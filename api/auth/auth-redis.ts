import Redis from 'ioredis';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

/**
 * The Redis client of API keys and rate limits. Commands wait for a (re)connection only up to
 * `commandTimeoutMs`, so an outage turns into quick 503s for key checks (fail closed) while the
 * rate limiter, which asks only when connected, lets requests through (fail open).
 */
export function createAuthRedis(url: string, log: Logger, commandTimeoutMs = 1_000): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs, connectTimeout: 2_000, retryStrategy: (times) => Math.min(times * 200, 2_000) });
  let lastLog = 0;
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log.warn('redis connection error (API keys, rate limits)', { err: errorMessage(err) });
  });
  return redis;
}
