import type Redis from 'ioredis';
import { connectKeyStoreRedis } from '../../core/api-keys/key-store-redis';
import type { Logger } from '../../core/logger';

/**
 * The Redis client of API keys and rate limits: the key store's client, so an outage turns into
 * quick 503s for key checks (fail closed) while the rate limiter, which asks only when connected,
 * lets requests through (fail open).
 */
export function createAuthRedis(url: string, log: Logger, commandTimeoutMs = 1_000): Redis {
  return connectKeyStoreRedis(url, log, commandTimeoutMs, 'API keys, rate limits');
}
