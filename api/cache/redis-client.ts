import type Redis from 'ioredis';
import type { Logger } from '../../core/logger';
import { connectRedis } from '../../core/redis-connection';

/**
 * A Redis client for the result cache that fails fast instead of making requests wait: no
 * offline queue (a command while disconnected fails at once), one try per command, a short
 * command timeout. RedisStore counts the errors.
 */
export function createCacheRedis(url: string, log: Logger, commandTimeoutMs = 250): Redis {
  return connectRedis(url, log, 'result cache', { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs });
}
