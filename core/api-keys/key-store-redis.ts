import Redis from 'ioredis';
import { errorMessage } from '../errors';
import type { Logger } from '../logger';

/**
 * A Redis client for reading API keys from a service other than the API (the ingest intake):
 * reconnects in the background, logs connection errors at most every 10 s, and lets a command
 * wait for a reconnection only `commandTimeoutMs`, so an outage becomes quick 503s (fail closed)
 * rather than hanging requests. The API's own client (api/redis-connection.ts) behaves the same.
 */
export function connectKeyStoreRedis(url: string, log: Logger, commandTimeoutMs = 1_000): Redis {
  const redis = new Redis(url, { connectTimeout: 2_000, retryStrategy: (times) => Math.min(times * 200, 2_000), maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs });
  let lastLog = 0;
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    log.warn('redis connection error (API keys)', { err: errorMessage(err) });
  });
  return redis;
}
