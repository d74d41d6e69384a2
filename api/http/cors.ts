import type { Context, Next } from 'koa';

/**
 * CORS for pages on other origins that call the API with a browser key (API_CORS_ORIGINS).
 * Keys travel in `Authorization` or `X-API-Key`, never in cookies, so no answer ever says
 * `Access-Control-Allow-Credentials`: a browser then sends no cookies or client certificates,
 * and even `*` cannot make another site act with a visitor's ambient credentials. Preflights
 * are answered here, before the key check (a browser sends them without the key).
 */
export type CorsOrigins = readonly string[] | '*';

const ALLOW_METHODS = 'GET, POST, HEAD';
const ALLOW_HEADERS = 'Authorization, X-API-Key, Content-Type, Content-Encoding, If-None-Match, X-Request-Id';
/** What a page may read from an answer besides the CORS-safelisted headers. */
const EXPOSE_HEADERS = 'X-Request-Id, X-Cache, X-Stale, X-As-Of-Lsn, ETag, Retry-After, RateLimit-Remaining, WWW-Authenticate';
const PREFLIGHT_MAX_AGE_S = '600';

export function corsMiddleware(origins: CorsOrigins) {
  const any = origins === '*';
  const allowed = new Set(any ? [] : origins);
  return async (ctx: Context, next: Next): Promise<void> => {
    // Answers differ by Origin unless every origin gets the same one: caches must keep them apart.
    if (!any) ctx.vary('Origin');
    const origin = ctx.get('Origin');
    const permitted = origin !== '' && (any || allowed.has(origin));
    const preflight = ctx.method === 'OPTIONS' && origin !== '' && ctx.get('Access-Control-Request-Method') !== '';
    if (preflight) {
      if (!permitted) {
        ctx.status = 403;
        ctx.body = { error: { code: 'CORS_ORIGIN_NOT_ALLOWED', message: `origin ${JSON.stringify(origin.slice(0, 200))} is not in API_CORS_ORIGINS; add it there (scheme://host[:port]) to call this API from its pages` } };
        return;
      }
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
      ctx.status = 204;
      return;
    }
    // Set before the route runs, so errors (401, 429, 503) are readable by the page too.
    if (permitted) {
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    await next();
  };
}
