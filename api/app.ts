import Router from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import type { PipelineConfig } from '../config/pipeline';
import type { Logger } from '../core/logger';
import { authMiddleware, type AuthMode } from './auth/middleware';
import { ResultCache } from './cache/result-cache';
import { errorMiddleware, RETRY_AFTER_S } from './errors';
import { accessLogMiddleware } from './http/access-log';
import { corsMiddleware, type CorsOrigins } from './http/cors';
import { requestIdMiddleware } from './http/request-id';
import { tracingMiddleware } from './http/tracing';
import type { Tracing } from '../core/tracing';
import type { createDrain } from './health/drain';
import { failedChecks, type ReadinessCheck } from './health/readiness';
import { NO_POSITIONS } from './freshness/positions-source';
import { WatermarkCache } from './freshness/watermark-cache';
import type { ApiMetrics } from './metrics';
import { metricsAccess } from './metrics-access';
import { DOCS_HTML } from './openapi/docs-page';
import { buildOpenApi } from './openapi/spec';
import type { RateLimiter } from './rate-limit/rate-limiter';
import { rateLimitMiddleware } from './rate-limit/middleware';
import { analyticsRoutes } from './routes/analytics';
import { browserKeyRoutes } from './routes/browser-keys';
import { searchRoutes } from './routes/search';
import { synonymRoutes } from './routes/synonyms';
import { CursorCodec } from './search/cursor';
import type { SearchBackend } from './search/search-backend';
import { SynonymCache } from './synonyms/synonym-cache';
import { searchPageRoutes, type SearchPageAssets } from './ui/routes';
import { MemorySynonymStore } from './synonyms/synonym-store';
import { VERSION } from '../core/version';

export interface AppDeps {
  pipeline: PipelineConfig;
  search: SearchBackend;
  metrics: ApiMetrics;
  log: Logger;
  /** Signs search cursors; a random key when omitted (cursors then only work on this instance). */
  cursorSecret?: string;
  /** Largest POST body, bytes after decompression. Default: 65536. */
  maxBodyBytes?: number;
  /** API keys (API_AUTH=keys) or none. Default: off, every caller unrestricted. */
  auth?: AuthMode;
  /** Per-key token buckets; none: no rate limit. */
  rateLimiter?: RateLimiter;
  /** Result cache; none: every answer computed (X-Cache: bypass). */
  cache?: ResultCache;
  /** The indexes' freshness watermarks (asOf, cache generations, read-your-writes); none: no index has one. */
  watermarks?: WatermarkCache;
  /** Longest read-your-writes wait, ms. Default: 5000. */
  consistencyWaitMs?: number;
  /** Bearer token of /metrics (API_METRICS_TOKEN); see metrics-access.ts for who may read it without. */
  metricsToken?: string;
  /** Query-time synonym rules per index; none: process-local rules (tests, single instance only). */
  synonyms?: SynonymCache;
  /** What else /readyz needs besides the search backend (Redis when API keys are on). */
  readiness?: ReadinessCheck[];
  /** Graceful drain on SIGTERM (health/drain.ts): /readyz fails first, connections close after answers. */
  drain?: ReturnType<typeof createDrain>;
  /** One info log line per request (API_ACCESS_LOG). Default: false. */
  accessLog?: boolean;
  /** Origins whose pages may call the API (API_CORS_ORIGINS). Default: none, no CORS headers. */
  corsOrigins?: CorsOrigins;
  /** The search page at /ui (API_SEARCH_PAGE); none: not served. */
  searchPage?: SearchPageAssets;
  /** A span per request (core/tracing.ts); give the cache and the search backend the same for their spans. Default: off. */
  tracing?: Tracing;
}

/** /readyz's own bound: backends bound their checks, this covers one that does not. */
const READY_CHECK_TIMEOUT_MS = 3_000;

/** The Koa app without a listening socket: main.ts listens, tests use app.callback(). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const router = new Router();
  // First, so that every answer carries its id and the access log sees the final status.
  app.use(requestIdMiddleware());
  if (deps.tracing?.on) app.use(tracingMiddleware(deps.tracing));
  if (deps.drain) app.use(deps.drain.middleware);
  if (deps.accessLog) app.use(accessLogMiddleware(deps.log.child('access')));
  app.use(deps.metrics.middleware());
  // Before errors and keys: preflights carry no key, and error answers must be readable cross-origin.
  if (deps.corsOrigins && (deps.corsOrigins === '*' || deps.corsOrigins.length)) app.use(corsMiddleware(deps.corsOrigins));
  app.use(errorMiddleware(deps.log));
  app.use(authMiddleware(deps.auth ?? { mode: 'off' }));
  if (deps.rateLimiter) app.use(rateLimitMiddleware(deps.rateLimiter, deps.metrics.rateLimit, deps.log));

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok', version: VERSION };
  });
  const checks: ReadinessCheck[] = [{ name: 'elasticsearch', failure: 'Elasticsearch is not answering', ready: () => deps.search.ready() }, ...(deps.readiness ?? []), ...(deps.drain ? [deps.drain.check] : [])];
  router.get('/readyz', async (ctx) => {
    const failed = await failedChecks(checks, READY_CHECK_TIMEOUT_MS);
    if (!failed.length) {
      ctx.body = { status: 'ready' };
      return;
    }
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_S));
    ctx.body = { error: { code: 'NOT_READY', message: `not ready: ${failed.map((c) => c.failure).join('; ')}`, details: { failed: failed.map((c) => c.name) } } };
  });
  const checkMetricsAccess = metricsAccess(deps.metricsToken, deps.auth?.mode === 'keys');
  router.get('/metrics', async (ctx) => {
    checkMetricsAccess(ctx);
    const registry: Registry = deps.metrics.registry;
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  const openapi = buildOpenApi(deps.pipeline, { auth: deps.auth?.mode === 'keys', searchPage: deps.searchPage !== undefined });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  });
  const routeDeps = {
    pipeline: deps.pipeline,
    search: deps.search,
    maxBodyBytes: deps.maxBodyBytes ?? 65_536,
    cache: { cache: deps.cache ?? new ResultCache({ maxEntries: 0, maxBytes: 0, ttlMs: 0 }), onResponse: deps.metrics.cache.response },
    freshness: {
      watermarks: deps.watermarks ?? new WatermarkCache(NO_POSITIONS, { refreshMs: 60_000, log: deps.log }),
      consistencyWaitMs: deps.consistencyWaitMs ?? 5_000,
      onConsistencyWait: deps.metrics.consistencyWait,
    },
  };
  const synonyms = deps.synonyms ?? new SynonymCache(new MemorySynonymStore());
  searchRoutes(router, { ...routeDeps, synonyms, cursors: new CursorCodec(deps.cursorSecret) });
  synonymRoutes(router, { pipeline: deps.pipeline, synonyms, maxBodyBytes: routeDeps.maxBodyBytes });
  analyticsRoutes(router, routeDeps);
  browserKeyRoutes(router, { pipeline: deps.pipeline, browserKeys: deps.auth?.mode === 'keys' ? deps.auth.authenticator.browserKeys : undefined, maxBodyBytes: routeDeps.maxBodyBytes });
  if (deps.searchPage) searchPageRoutes(router, deps.pipeline, deps.searchPage, { auth: deps.auth?.mode === 'keys' });

  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  app.silent = true; // errors are logged by errorMiddleware
  return app;
}
