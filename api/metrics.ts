import type { Context, Next } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
