import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { ApiError } from './errors';

/**
 * Who may read /metrics. Its series name tenants and API key ids (api_rate_limited_total), so
 * with API keys on it is closed unless an API_METRICS_TOKEN is configured, and then needs
 * `Authorization: Bearer <token>` (the scrape config's `authorization`). With keys off (a local
 * demo, everything open anyway) it stays open unless a token is set.
 */
export function metricsAccess(token: string | undefined, keysOn: boolean): (ctx: Context) => void {
  if (token === undefined) {
    return keysOn
      ? () => {
          throw new ApiError(401, 'METRICS_TOKEN_REQUIRED', '/metrics is closed while API keys are on and no API_METRICS_TOKEN is configured; set one and scrape with Authorization: Bearer <token>');
        }
      : () => undefined;
  }
  const expected = digest(token);
  return (ctx) => {
    const m = /^Bearer (.+)$/i.exec(ctx.get('authorization'));
    // Compared as hashes, in constant time: the length of a guess tells nothing either.
    if (!m || !timingSafeEqual(digest(m[1] as string), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new ApiError(401, 'METRICS_TOKEN_INVALID', '/metrics needs Authorization: Bearer <API_METRICS_TOKEN>');
    }
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
