import type { Context, Next } from 'koa';
import type { Logger } from '../../core/logger';
import { ApiError } from '../errors';
import type { Principal } from '../auth/principal';
import type { RateLimiter } from './rate-limiter';
import { retryAfterSeconds } from './token-bucket';

export interface RateLimitHooks {
  /** A request refused with 429 (api_rate_limited_total{key_id,tenant}). */
  limited(p: Principal): void;
  /** A request let through because the limiter could not decide (api_rate_limit_unavailable_total). */
  unavailable(): void;
}

/**
 * 429 with Retry-After once a key has spent its burst. When Redis cannot answer, requests pass
 * (fail open): the limiter protects capacity, and refusing every caller during a Redis outage
 * would be the larger outage. It is logged (at most once a minute) and counted instead.
 * Runs after the auth middleware; callers without a key (API_AUTH=off) are not limited.
 */
export function rateLimitMiddleware(limiter: RateLimiter, hooks: RateLimitHooks, log: Logger) {
  let lastWarnMs = 0;
  return async (ctx: Context, next: Next): Promise<void> => {
    const p = (ctx.state as { principal?: Principal }).principal;
    if (!p || p.tenant === undefined) return next();
    const verdict = await limiter.take(p.keyId);
    if (!verdict) {
      hooks.unavailable();
      if (Date.now() - lastWarnMs > 60_000) {
        lastWarnMs = Date.now();
        log.warn('rate limiter unavailable (Redis unreachable): letting requests through unlimited', { keyId: p.keyId });
      }
    } else if (!verdict.allowed) {
      hooks.limited(p);
      const seconds = retryAfterSeconds(verdict.retryAfterMs);
      ctx.set('Retry-After', String(seconds));
      throw new ApiError(429, 'RATE_LIMITED', `the API key ${p.keyId} is over its rate limit; retry after ${seconds} s, or spread requests out`);
    } else ctx.set('RateLimit-Remaining', String(verdict.remaining));
    await next();
  };
}
