import type { ApiConfig } from '../../config';
import type { Logger } from '../../core/logger';
import type { RateLimiter } from '../rate-limit/rate-limiter';
import { RedisRateLimiter } from '../rate-limit/rate-limiter';
import { createAuthRedis } from './auth-redis';
import { Authenticator } from './authenticator';
import { BrowserKeys } from './browser-keys';
import { RedisApiKeyStore } from '../../core/api-keys/key-store';
import type { AuthMode } from './middleware';
import { redisReadiness, type ReadinessCheck } from '../health/readiness';

/** API_AUTH and the rate-limit settings → what createApp takes, plus the cleanup main.ts runs. */
export function setUpAuth(config: Pick<ApiConfig, 'authMode' | 'redisUrl' | 'redisPrefix' | 'keyCacheMs' | 'rateLimitPerSec' | 'rateLimitBurst' | 'browserKeys'>, log: Logger): { auth: AuthMode; rateLimiter?: RateLimiter; readiness: ReadinessCheck[]; close: () => Promise<void> } {
  if (config.authMode === 'off' || !config.redisUrl) {
    log.warn('API_AUTH=off: NO API KEYS ARE CHECKED. Every caller reads every tenant\'s data and is not rate limited. Set API_AUTH=keys (and create keys with `npm run api-keys -- create`) anywhere but a local demo.');
    return { auth: { mode: 'off' }, readiness: [], close: async () => undefined };
  }
  const redis = createAuthRedis(config.redisUrl, log.child('auth'));
  const browserKeys = config.browserKeys.secret ? new BrowserKeys({ secret: config.browserKeys.secret, maxTtlS: config.browserKeys.maxTtlS }) : undefined;
  const authenticator = new Authenticator(new RedisApiKeyStore(redis, config.redisPrefix), { cacheMs: config.keyCacheMs }, browserKeys);
  const rateLimiter = config.rateLimitPerSec > 0 ? new RedisRateLimiter(redis, { prefix: config.redisPrefix, ratePerSec: config.rateLimitPerSec, burst: config.rateLimitBurst }) : undefined;
  log.info('API keys required', { keyCacheMs: config.keyCacheMs, rateLimitPerSec: config.rateLimitPerSec, rateLimitBurst: config.rateLimitBurst, browserKeys: browserKeys ? `on, at most ${config.browserKeys.maxTtlS} s` : 'off (no API_BROWSER_KEY_SECRET)' });
  const readiness = [redisReadiness(redis, 'Redis (API keys) is not answering: no key can be verified')];
  return { auth: { mode: 'keys', authenticator }, ...(rateLimiter ? { rateLimiter } : {}), readiness, close: async () => void (await redis.quit().catch(() => undefined)) };
}
