import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createApiMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'api_' });
  const requestSeconds = new Histogram({
    name: 'api_request_seconds',
    help: 'Request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const elasticsearchSeconds = new Histogram({
    name: 'api_elasticsearch_seconds',
    help: 'Time spent in Elasticsearch calls, by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'api_cache_lookups_total',
    help: 'Result cache lookups by route, level (memory, redis) and result (hit, miss)',
    labelNames: ['route', 'level', 'result'] as const,
    registers: [registry],
  });
  const cacheResponses = new Counter({
    name: 'api_cache_responses_total',
    help: 'Answers by route and cache result (hit, miss, bypass: not cacheable); hit ratio = hit / (hit + miss)',
    labelNames: ['route', 'result'] as const,
    registers: [registry],
  });
  const singleFlightJoins = new Counter({
    name: 'api_cache_singleflight_joins_total',
    help: 'Requests answered by joining an identical request already querying Elasticsearch',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const redisErrors = new Counter({
    name: 'api_cache_redis_errors_total',
    help: 'Result cache Redis operations that failed or were skipped while Redis was unreachable (the request is then served uncached)',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const consistencyWaits = new Counter({
    name: 'api_consistency_waits_total',
    help: 'Read-your-writes requests (minLsn or consistency) by outcome: satisfied, or stale when the wait bound passed',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Computed at scrape time from the last reading, so the age keeps growing while the watermark is stuck.
  const watermarkTimes = new Map<string, number>();
  new Gauge({
    name: 'api_watermark_age_seconds',
    help: 'Age of each index\'s freshness watermark as last read by this API (now - commit time of the oldest partition position)',
    labelNames: ['index'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [index, t] of watermarkTimes) this.set({ index }, Math.max(0, (Date.now() - t) / 1000));
    },
  });
  // Labelled by key id and tenant: bounded by the number of keys issued, and what an operator
  // needs to tell one noisy client from a general overload.
  const rateLimited = new Counter({ name: 'api_rate_limited_total', help: 'Requests refused with 429 by the per-key rate limit', labelNames: ['key_id', 'tenant'] as const, registers: [registry] });
  const rateLimitUnavailable = new Counter({ name: 'api_rate_limit_unavailable_total', help: 'Requests let through unlimited because Redis could not be asked (fail open)', registers: [registry] });
  return {
    registry,
    requestSeconds,
    /** For the rate-limit middleware. */
    rateLimit: {
      limited: (p: { keyId: string; tenant: string | undefined }): void => rateLimited.inc({ key_id: p.keyId, tenant: p.tenant ?? '' }),
      unavailable: (): void => rateLimitUnavailable.inc(),
    },
    cache: {
      lookup: (route: string, level: string, result: 'hit' | 'miss'): void => cacheLookups.inc({ route, level, result }),
      response: (route: string, result: 'hit' | 'miss' | 'bypass'): void => cacheResponses.inc({ route, result }),
      joined: (route: string): void => singleFlightJoins.inc({ route }),
      redisError: (operation: string): void => redisErrors.inc({ operation }),
    },
    consistencyWait: (outcome: 'satisfied' | 'stale'): void => consistencyWaits.inc({ outcome }),
    /** The commit time (ms since epoch) of an index's watermark, after each reading. */
    watermarkRead: (index: string, asOfTime: number | undefined): void => {
      if (asOfTime === undefined) watermarkTimes.delete(index);
      else watermarkTimes.set(index, asOfTime);
    },
    /** For the search backend: one observation per Elasticsearch call. */
    observeElasticsearch: (operation: string, seconds: number, outcome: 'ok' | 'error'): void => elasticsearchSeconds.observe({ operation, outcome }, seconds),
    middleware: () => async (ctx: Context, next: Next): Promise<void> => {
      const end = requestSeconds.startTimer();
      try {
        await next();
      } finally {
        // The route pattern, never the raw path: unbounded label values would grow memory.
        end({ method: ctx.method, route: (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched', status: String(ctx.status) });
      }
    },
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
