import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { connectRedis } from '../redis-connection';

/**
 * The Redis client for reading API keys (the API and the ingest intake): a command waits for a
 * reconnection only `commandTimeoutMs`, so an outage becomes quick 503s (fail closed) rather than
 * hanging requests.
 */
export function connectKeyStoreRedis(url: string, log: Logger, commandTimeoutMs = 1_000, what = 'API keys'): Redis {
  return connectRedis(url, log, what, { maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs });
}
