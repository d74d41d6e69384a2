import type { Context, Next } from 'koa';
import { ApiError } from '../errors';
import { SEARCH_PAGE_PATHS } from '../ui/paths';
import { missingScopeMessage, presentedKey as presentedKeyOf } from '../../core/api-keys/key-verifier';
import { toApiError, type Authenticator } from './authenticator';
import { ANONYMOUS, principalOf, setPrincipal } from './principal';
import { hasScope, type Scope } from '../../core/api-keys/scopes';

/** Routes anyone may call: probes, metrics scraping, the API description and the search page (it holds no data). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', ...SEARCH_PAGE_PATHS]);

export type AuthMode = { mode: 'off' } | { mode: 'keys'; authenticator: Authenticator };

/**
 * Puts the caller's Principal on ctx.state for every route except OPEN_PATHS: with keys, from
 * `Authorization: Bearer <key>` or `X-API-Key: <key>`, else a 401; with auth off, ANONYMOUS.
 */
export function authMiddleware(auth: AuthMode) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (auth.mode === 'off') setPrincipal(ctx, ANONYMOUS);
    else if (!OPEN_PATHS.has(ctx.path)) {
      try {
        setPrincipal(ctx, await auth.authenticator.authenticate(presentedKey(ctx)));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="search-pipeline"');
        throw err;
      }
    }
    await next();
  };
}

function presentedKey(ctx: Context): string {
  try {
    return presentedKeyOf(ctx.get('Authorization'), ctx.get('X-API-Key'));
  } catch (err) {
    throw toApiError(err);
  }
}

export function indexNotAllowed(index: string, allowed: readonly string[]): ApiError {
  return new ApiError(403, 'INDEX_NOT_ALLOWED', `this browser key may search ${allowed.join(', ')}, not ${JSON.stringify(index.slice(0, 100))}; mint one that names the index`);
}

/** Route guard: 403 when the caller's key lacks `scope`, or is a browser key for other indexes. */
export function requireScope(scope: Scope) {
  return async <C extends Context>(ctx: C, next: Next): Promise<void> => {
    const p = principalOf(ctx);
    if (!hasScope(p.scopes, scope)) {
      throw new ApiError(403, 'SCOPE_MISSING', missingScopeMessage(p.keyId, p.scopes, scope));
    }
    // Checked before any route code, so a cached answer is never served to a key that may not read the index.
    const index = (ctx as { params?: Record<string, unknown> }).params?.index;
    if (p.restriction && typeof index === 'string' && !p.restriction.indexes.includes(index)) throw indexNotAllowed(index, p.restriction.indexes);
    await next();
  };
}
