import request from 'supertest';
import { CollectedSpans } from '../../core/collected-spans';
import { silentLogger } from '../../core/logger';
import { tracingWith } from '../../core/tracing';
import { createApp } from '../app';
import { ResultCache } from '../cache/result-cache';
import { createApiMetrics } from '../metrics';
import { tracedSearchBackend } from '../search/traced-search-backend';
import { FakeBackend, testPipeline } from '../testing/fake-backend';

describe('API traces', () => {
  it('makes the cache lookup a child of the request, and the Elasticsearch call a child of the lookup that missed', async () => {
    const exporter = new CollectedSpans();
    const tracing = tracingWith(exporter, { service: 'api', sampleRatio: 1, exportDelayMs: 10 });
    const metrics = createApiMetrics();
    const app = createApp({ pipeline: testPipeline, search: tracedSearchBackend(new FakeBackend(), tracing), metrics, log: silentLogger, tracing, cache: new ResultCache({ maxEntries: 100, maxBytes: 1e6, ttlMs: 60_000, tracing }) });
    const http = request(app.callback());
    expect((await http.get('/v1/indexes/books/search?q=dune')).status).toBe(200);
    expect((await http.get('/v1/indexes/books/search?q=dune')).status).toBe(200); // from the cache
    await tracing.shutdown();

    const [first, second] = exporter.named('api.request');
    expect(first!.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.route': '/v1/indexes/:index/search' });
    const caches = exporter.named('api.cache');
    expect(caches.map((c) => [c.parentSpanContext?.spanId, c.attributes['pipeline.cache.result']])).toEqual([[first!.spanContext().spanId, 'miss'], [second!.spanContext().spanId, 'hit']]);
    const [es] = exporter.named('api.elasticsearch');
    expect(exporter.named('api.elasticsearch')).toHaveLength(1);
    expect([es!.spanContext().traceId, es!.parentSpanContext?.spanId, es!.attributes['db.operation.name'], es!.attributes['db.namespace']]).toEqual([first!.spanContext().traceId, caches[0]!.spanContext().spanId, 'search', 'books']);
    expect(second!.spanContext().traceId).not.toBe(first!.spanContext().traceId);
  });

  it('adds nothing to the app when tracing is off', () => {
    const search = new FakeBackend();
    expect(tracedSearchBackend(search, { on: false } as never)).toBe(search);
  });
});
