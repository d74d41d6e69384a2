import { fromNested, inNested, nestedQuery, nestedSort, rootsOf } from './nested';

describe('nested plumbing', () => {
  it('wraps an aggregation in one nested level per relation and reads its result back', () => {
    const agg = inNested(['items', 'items.discounts'], { terms: { field: 'items.discounts.code' } });
    expect(agg).toEqual({ nested: { path: 'items' }, aggs: { in: { nested: { path: 'items.discounts' }, aggs: { in: { terms: { field: 'items.discounts.code' } } } } } });
    expect(fromNested(['items', 'items.discounts'], { doc_count: 3, in: { doc_count: 2, in: { buckets: [] } } })).toEqual({ buckets: [] });
    expect(inNested([], { min: { field: 'x' } })).toEqual({ min: { field: 'x' } });
    expect(fromNested(['items'], undefined)).toBeUndefined();
  });
  it('counts roots with reverse_nested, carrying root-level sub-aggregations only when there are some', () => {
    expect(rootsOf()).toEqual({ roots: { reverse_nested: {} } });
    expect(rootsOf({ m0: { avg: { field: 'total' } } })).toEqual({ roots: { reverse_nested: {}, aggs: { m0: { avg: { field: 'total' } } } } });
  });
  it('sorts through every nested level, outermost first', () => {
    expect(nestedSort(['items', 'items.discounts'])).toEqual({ path: 'items', nested: { path: 'items.discounts' } });
    expect(nestedSort([])).toBeUndefined();
  });
  it('queries the innermost relation directly', () => {
    expect(nestedQuery('items.discounts', { term: { 'items.discounts.code': 'X' } })).toEqual({ nested: { path: 'items.discounts', query: { term: { 'items.discounts.code': 'X' } }, score_mode: 'none' } });
  });
});
