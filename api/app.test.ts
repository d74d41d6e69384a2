import request from 'supertest';
import { parsePipelineConfig } from '../config/pipeline';
import { silentLogger } from '../core/logger';
import { createApp } from './app';
import { createApiMetrics } from './metrics';
import { buildSearchBody } from './search/es-search-backend';
import type { SearchBackend, SearchRequest } from './search/search-backend';

const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { books: { table: 'books', fields: { title: { type: 'text', searchable: true, boost: 3 }, body: { type: 'text', searchable: true }, year: { type: 'integer' } } } } }));

class FakeBackend implements SearchBackend {
  calls: SearchRequest[] = [];
  async search(_i: unknown, req: SearchRequest) {
    this.calls.push(req);
    return { total: 1, totalRelation: 'eq' as const, tookMs: 1, hits: [{ id: '1', score: 1, document: { title: 'Dune' } }] };
  }
  async ready() {
    return true;
  }
}

function app(backend = new FakeBackend()) {
  return { backend, http: request(createApp({ pipeline, search: backend, metrics: createApiMetrics(), log: silentLogger }).callback()) };
}

describe('API routes', () => {
  it('searches with defaults', async () => {
    const { backend, http } = app();
    const res = await http.get('/v1/indexes/books/search?q=dune');
    expect(res.status).toBe(200);
    expect(res.body.hits[0].document.title).toBe('Dune');
    expect(backend.calls[0]).toEqual({ q: 'dune', size: 10, from: 0 });
  });
  it.each([
    ['/v1/indexes/nope/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/_all/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/books/search?size=1000000', 400, 'PARAM_OUT_OF_RANGE'],
    ['/v1/indexes/books/search?size=-1', 400, 'PARAM_INVALID'],
    ['/v1/indexes/books/search?size=NaN', 400, 'PARAM_INVALID'],
    ['/v1/indexes/books/search?page=2000&size=10', 400, 'PAGE_TOO_DEEP'],
    ['/v1/indexes/books/search?q=a&q=b', 400, 'PARAM_REPEATED'],
    [`/v1/indexes/books/search?q=${'a'.repeat(2000)}`, 400, 'QUERY_TOO_LONG'],
    ['/v1/indexes/books/search?q=%00', 400, 'QUERY_INVALID'],
    ['/nowhere', 404, 'ROUTE_NOT_FOUND'],
  ])('%s → %i %s', async (url, status, code) => {
    const res = await app().http.get(url);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
  });
  it('serves health and metrics', async () => {
    const { http } = app();
    expect((await http.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await http.get('/readyz')).status).toBe(200);
    await http.get('/v1/indexes/books/search?q=x');
    const metrics = await http.get('/metrics');
    expect(metrics.text).toContain('api_request_seconds_count{method="GET",route="/v1/indexes/:index/search",status="200"} 1');
  });
});

describe('query building', () => {
  it('uses simple_query_string over searchable fields with boosts, never raw DSL', () => {
    const body = buildSearchBody(pipeline.indexes[0]!, { q: 'tenant_id:* AND (', size: 5, from: 0 }) as any;
    expect(body.query.simple_query_string.fields).toEqual(['title^3', 'body']);
    expect(body.query.simple_query_string.query).toBe('tenant_id:* AND (');
  });
});
