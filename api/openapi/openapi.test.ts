import type { Layer } from '@koa/router';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { ANALYTICS_PARAMS } from '../analytics/analytics-params';
import { createApiMetrics } from '../metrics';
import { SEARCH_PARAMS } from '../search/search-params';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { ordersPipeline } from '../testing/orders-index';
import { buildOpenApi } from './spec';

/** The OpenAPI document and the router must describe the same routes and parameters. */
const app = createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger });
const router = app.middleware.map((m) => (m as { router?: { stack: Layer[] } }).router).find(Boolean)!;
const spec = buildOpenApi(testPipeline) as any;

const routed = router.stack.flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(l.path).replace(/:(\w+)/g, '{$1}')}`)).sort();
const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
  .flatMap(([path, item]) => Object.keys(item).filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k)).map((m) => `${m.toUpperCase()} ${path}`))
  .sort();

describe('OpenAPI document', () => {
  it('documents every route and routes every documented path', () => {
    expect(routed.length).toBeGreaterThan(5);
    expect(documented).toEqual(routed);
  });
  it('lists exactly the parameters each route accepts, for GET and POST', () => {
    const names = (op: any) => (op.parameters as Array<{ name: string }>).map((p) => p.name).sort();
    const bodyNames = (op: any) => Object.keys(op.requestBody.content['application/json'].schema.properties).sort();
    const search = spec.paths['/v1/indexes/{index}/search'];
    expect(names(search.get)).toEqual(Object.keys(SEARCH_PARAMS).sort());
    expect(bodyNames(search.post)).toEqual(Object.keys(SEARCH_PARAMS).sort());
    const analytics = spec.paths['/v1/indexes/{index}/analytics'];
    expect(names(analytics.get)).toEqual(Object.keys(ANALYTICS_PARAMS).sort());
    expect(bodyNames(analytics.post)).toEqual(Object.keys(ANALYTICS_PARAMS).sort());
  });
  it('gives each body parameter the JSON type the API checks', () => {
    const types = (op: any) => Object.fromEntries(Object.entries(op.requestBody.content['application/json'].schema.properties).map(([k, v]: [string, any]) => [k, v.type]));
    expect(types(spec.paths['/v1/indexes/{index}/search'].post)).toEqual(SEARCH_PARAMS);
    expect(types(spec.paths['/v1/indexes/{index}/analytics'].post)).toEqual(ANALYTICS_PARAMS);
  });
  it('names the indexes of the pipeline config', () => {
    expect(spec.paths['/v1/indexes/{index}/search'].parameters[0].schema.enum).toEqual(['books']);
  });
  it('lists each index\'s field paths and their options, joined documents included', () => {
    const joined = buildOpenApi(ordersPipeline) as any;
    const described = joined.paths['/v1/indexes/{index}/search'].parameters[0].description;
    expect(described).toContain('customer.country (keyword; filterable, facetable, sortable)');
    expect(described).toContain('items.product.category (keyword; filterable, facetable; nested in items)');
    expect(described).toContain('items.discounts.code (keyword; searchable, filterable, facetable; nested in items.discounts)');
    expect(spec.paths['/v1/indexes/{index}/search'].parameters[0].description).toContain('books: title (text; searchable, sortable)');
  });
  it('resolves every $ref', () => {
    const refs = [...JSON.stringify(spec).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
    for (const r of refs) expect(spec.components.schemas[r!]).toBeDefined();
  });
});
