import type { default as Router, RouterContext } from '@koa/router';
import type { PipelineConfig } from '../../config/pipeline';
import { encodeAfter, ANALYTICS_PARAMS, parseAnalytics } from '../analytics/analytics-params';
import { checkBuckets } from '../analytics/bucket-limit';
import { toCsv } from '../analytics/csv';
import { requireScope } from '../auth/middleware';
import { principalOf } from '../auth/principal';
import { callerScoped } from '../auth/restriction-scope';
import { answer, type CacheDeps } from '../cache/respond';
import { readPoint, type FreshnessDeps } from '../freshness/read-context';
import { parseRequirement } from '../freshness/read-your-writes';
import { requestParams, resolveIndex } from '../http/request';
import type { SearchBackend } from '../search/search-backend';

export interface AnalyticsRouteDeps {
  pipeline: PipelineConfig;
  search: SearchBackend;
  maxBodyBytes: number;
  cache: CacheDeps;
  freshness: FreshnessDeps;
}

/** GET/POST /v1/indexes/:index/analytics: metrics, optionally grouped; JSON or CSV. */
export function analyticsRoutes(router: Router, deps: AnalyticsRouteDeps): void {
  const analytics = async (ctx: RouterContext) => {
    const index = resolveIndex(deps.pipeline, ctx.params.index);
    const params = await requestParams(ctx, ANALYTICS_PARAMS, deps.maxBodyBytes);
    // format=csv wins; otherwise content negotiation, JSON unless the client prefers CSV.
    const format = params.oneOf('format', ['json', 'csv'] as const, ctx.accepts('application/json', 'text/csv') === 'text/csv' ? 'csv' : 'json');
    const parsed = parseAnalytics(index, params);
    // Scoped before the bucket estimate too: its min/max would otherwise reveal other tenants' values.
    const search = callerScoped(deps.search, principalOf(ctx));
    const read = await readPoint(deps.freshness, index, parseRequirement(params));
    await answer(ctx, deps.cache, {
      route: 'analytics',
      index,
      read,
      request: { ...parsed.normalised, format },
      compute: async () => {
        await checkBuckets(index, parsed, search);
        const result = await search.analytics(index, parsed.request);
        if (format === 'csv') {
          const headers: Record<string, string> = { 'Content-Disposition': `inline; filename="${index.name}-analytics.csv"` };
          if (result.after) headers['X-Next-After'] = encodeAfter(result.after);
          return { type: 'text/csv; charset=utf-8', body: toCsv(parsed.request, result), headers };
        }
        const { after, ...rest } = result;
        return { type: 'json', body: { index: index.name, ...rest, ...(after === undefined ? {} : { after: after === null ? null : encodeAfter(after) }) } };
      },
    });
  };
  router.get('/v1/indexes/:index/analytics', requireScope('analytics'), analytics);
  router.post('/v1/indexes/:index/analytics', requireScope('analytics'), analytics);
}
