import type Router from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { checkBrowserKeyRequest, type BrowserKeys } from '../auth/browser-keys';
import { requireScope } from '../auth/middleware';
import { principalOf } from '../auth/principal';
import { ApiError } from '../errors';
import { requestParams } from '../http/request';

export interface BrowserKeyRouteDeps {
  pipeline: PipelineConfig;
  /** Undefined unless API_AUTH=keys and API_BROWSER_KEY_SECRET are set. */
  browserKeys: BrowserKeys | undefined;
  maxBodyBytes: number;
}

export const BROWSER_KEY_PARAMS = { indexes: 'string', filter: 'string', expiresInS: 'integer' } as const;

/**
 * POST /v1/browser-keys: the caller's server, with its API key, mints a short-lived key for a
 * page (auth/browser-keys.ts). The new key has the caller's tenant, the search scope only, the
 * named indexes and the filter; the answer is never cached.
 */
export function browserKeyRoutes(router: Router, deps: BrowserKeyRouteDeps): void {
  router.post('/v1/browser-keys', requireScope('search'), async (ctx) => {
    const parent = principalOf(ctx);
    if (!deps.browserKeys) {
      throw new ApiError(404, 'BROWSER_KEYS_DISABLED', 'browser keys are off on this API: they need API_AUTH=keys and API_BROWSER_KEY_SECRET (at least 32 random characters, the same on every instance)');
    }
    const p = await requestParams(ctx, BROWSER_KEY_PARAMS, deps.maxBodyBytes);
    const req = checkBrowserKeyRequest(deps.pipeline, p.str('indexes'), p.str('filter'), p.int('expiresInS', Math.min(900, deps.browserKeys.maxTtlS), 1, 86_400 * 7));
    const { key, claims } = deps.browserKeys.mint(parent, req);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { key, parent: claims.parent, tenant: claims.tenant, indexes: claims.indexes, filter: claims.filter ?? null, scopes: ['search'], expiresAt: new Date(claims.expiresAt * 1000).toISOString() };
  });
}
