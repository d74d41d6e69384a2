import type Redis from 'ioredis';
import type { Logger } from '../../core/logger';
import { connectRedis } from '../redis-connection';

/**
 * The Redis client of API keys and rate limits. Commands wait for a (re)connection only up to
 * `commandTimeoutMs`, so an outage turns into quick 503s for key checks (fail closed) while the
 * rate limiter, which asks only when connected, lets requests through (fail open).
 */
export function createAuthRedis(url: string, log: Logger, commandTimeoutMs = 1_000): Redis {
  return connectRedis(url, log, 'API keys, rate limits', { maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs });
}
