import { Params } from '../http/params';
import { orders } from '../testing/orders-index';
import { ANALYTICS_PARAMS, parseAnalytics } from './analytics-params';
import { buildAnalyticsBody, parseAnalyticsResponse } from './es-analytics';

/** Analytics over joined documents: groups and metrics on fields of object and nested relations. */
const parse = (q: Record<string, string>) => parseAnalytics(orders, new Params(q, ANALYTICS_PARAMS)).request;
const body = (q: Record<string, string>) => buildAnalyticsBody(parse(q)) as any;
const error = (q: Record<string, string>) => {
  try {
    parse(q);
  } catch (err) {
    return [(err as { code: string }).code, (err as Error).message];
  }
  throw new Error('expected a 400');
};

describe('analytics over joined documents', () => {
  it('groups by an object relation field like a root field', () => {
    expect(body({ groupBy: 'customer.country', metrics: 'count,sum(total)' }).aggs.g).toEqual({ terms: { field: 'customer.country', size: 10 }, aggs: { m1: { sum: { field: 'total' } } } });
  });
  it('groups by a nested field inside nested, counting roots with reverse_nested; metrics where their field lives', () => {
    const b = body({ groupBy: 'items.product.category', metrics: 'count,sum(items.qty),avg(total),cardinality(items.discounts.code)', groupSize: '5' });
    expect(b.aggs.g).toEqual({
      nested: { path: 'items' },
      aggs: {
        in: {
          terms: { field: 'items.product.category', size: 5, order: [{ roots: 'desc' }, { _key: 'asc' }] },
          aggs: {
            m1: { sum: { field: 'items.qty' } }, // the bucket's own items
            roots: {
              reverse_nested: {},
              aggs: {
                m2: { avg: { field: 'total' } },
                m3: { nested: { path: 'items' }, aggs: { in: { nested: { path: 'items.discounts' }, aggs: { in: { cardinality: { field: 'items.discounts.code', precision_threshold: 3000 } } } } } },
              },
            },
          },
        },
      },
    });
    // Without groups, a nested field's metric steps into its relation.
    expect(body({ metrics: 'sum(items.qty)' }).aggs.m0).toEqual({ nested: { path: 'items' }, aggs: { in: { sum: { field: 'items.qty' } } } });
  });
  it('reads root counts and metrics back out of the nested buckets', () => {
    const req = parse({ groupBy: 'items.product.category', metrics: 'count,sum(items.qty),avg(total)' });
    const res = parseAnalyticsResponse(req, {
      took: 3,
      hits: { total: { value: 3 } },
      aggregations: { g: { doc_count: 4, in: { buckets: [{ key: 'toys', doc_count: 3, m1: { value: 5 }, roots: { doc_count: 2, m2: { value: 40 } } }] } } },
    });
    expect(res.groups).toEqual([{ key: { 'items.product.category': 'toys' }, count: 2, metrics: { count: 2, 'sum(items.qty)': 5, 'avg(total)': 40 } }]);
    expect(res.total).toBe(3);
  });
  it('pages composite groups within one nested relation', () => {
    const b = body({ groupBy: 'items.product.category,items.qty:5', composite: 'true' });
    expect(b.aggs.g.nested).toEqual({ path: 'items' });
    expect(b.aggs.g.aggs.in.composite.sources).toEqual([{ 'items.product.category': { terms: { field: 'items.product.category', missing_bucket: true } } }, { 'items.qty': { histogram: { field: 'items.qty', interval: 5 } } }]);
    expect(b.aggs.g.aggs.in.aggs).toEqual({ roots: { reverse_nested: {} } });
  });
  it('filters and time ranges take paths too', () => {
    expect(body({ filter: 'items.product.category:toys', from: '2024' }).query.bool.filter).toEqual([
      { nested: { path: 'items', score_mode: 'none', query: { terms: { 'items.product.category': ['toys'] } } } },
      { range: { placed_at: { gte: '2024' } } },
    ]);
  });
  it('refuses groups of different documents, and paths that are not configured', () => {
    expect(error({ groupBy: 'customer.country,items.product.category' })).toEqual(['GROUP_INVALID', expect.stringContaining('lie in different nested relations')]);
    expect(error({ groupBy: 'items.product.category,items.discounts.code' })[0]).toBe('GROUP_INVALID');
    expect(error({ groupBy: 'items.product.colour' })).toEqual(['ANALYTICS_FIELD_NOT_ALLOWED', expect.stringContaining('"items.product.colour" cannot be aggregated in orders; fields: number, status, total, placed_at, customer.name, customer.country, items.qty, items.product.title, items.product.category, items.discounts.code, tags.label')]);
    expect(error({ metrics: 'avg(customer.name)' })).toEqual(['METRIC_INVALID', expect.stringContaining('customer.name is text')]);
    expect(error({ metrics: 'avg(items.product.category)' })).toEqual(['METRIC_INVALID', expect.stringContaining('items.product.category is keyword')]);
    expect(error({ groupBy: 'items.qty:x' })).toEqual(['GROUP_INVALID', expect.stringContaining('the interval of items.qty')]);
  });
});
