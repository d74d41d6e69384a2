import type { Context, Next } from 'koa';
import { ApiError } from '../errors';
import { missingScopeMessage, presentedKey as presentedKeyOf } from '../../core/api-keys/key-verifier';
import { toApiError, type Authenticator } from './authenticator';
import { ANONYMOUS, principalOf, setPrincipal } from './principal';
import { hasScope, type Scope } from '../../core/api-keys/scopes';

/** Routes anyone may call: probes, metrics scraping and the API description. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']);

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

/** Route guard: 403 when the caller's key lacks `scope`. */
export function requireScope(scope: Scope) {
  return async <C extends Context>(ctx: C, next: Next): Promise<void> => {
    const p = principalOf(ctx);
    if (!hasScope(p.scopes, scope)) {
      throw new ApiError(403, 'SCOPE_MISSING', missingScopeMessage(p.keyId, p.scopes, scope));
    }
    await next();
  };
}
