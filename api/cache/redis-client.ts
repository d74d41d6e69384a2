import Redis from 'ioredis';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

/**
 * A Redis client for the result cache that fails fast instead of making requests wait: no
 * offline queue (a command while disconnected fails at once), one try per command, a short
 * command timeout; reconnects forever in the background.
 */
export function createCacheRedis(url: string, log: Logger, commandTimeoutMs = 250): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastLog = 0;
  // Without a listener ioredis prints every connection error; RedisStore already counts them.
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log.warn('redis connection error', { err: errorMessage(err) });
  });
  return redis;
}
