import { tenantClause } from '../auth/tenant-scope';
import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
import { orders } from '../testing/orders-index';
import { facetTermsAgg } from './facet-refinement';
import { buildSearchBody } from './query-builder';
import { SEARCH_PARAMS, parseSearch } from './search-params';

const request = (q: Record<string, string>) => parseSearch(books, new Params(q, SEARCH_PARAMS)).request;
const body = (q: Record<string, string>) => buildSearchBody(books, request(q)) as any;

describe('refinement facets', () => {
  it('moves a filter on a requested facet to post_filter and keeps it out of that facet', () => {
    const b = body({ q: 'dune', filter: 'genre:scifi year:1960..1970', facets: 'genre' });
    // year is not a requested facet: it narrows everything, in the main query.
    expect(b.query.bool.filter).toEqual([{ range: { year: { gte: 1960, lte: 1970 } } }]);
    expect(b.post_filter).toEqual({ bool: { filter: [{ terms: { genre: ['scifi'] } }], must_not: [] } });
    expect(b.aggs.genre).toEqual({ filter: { match_all: {} }, aggs: { values: { terms: { field: 'genre', size: 10 } } } });
  });

  it('counts each facet under every other facet filter, exclusions included', () => {
    const b = body({ filter: 'genre:scifi,fantasy -author:Herbert', facets: 'genre,author,in_print' });
    expect(b.query).toEqual({ match_all: {} });
    expect(b.post_filter.bool).toEqual({ filter: [{ terms: { genre: ['scifi', 'fantasy'] } }], must_not: [{ terms: { 'author.raw': ['Herbert'] } }] });
    expect(b.aggs.genre.filter).toEqual({ bool: { filter: [], must_not: [{ terms: { 'author.raw': ['Herbert'] } }] } });
    expect(b.aggs.author.filter).toEqual({ bool: { filter: [{ terms: { genre: ['scifi', 'fantasy'] } }], must_not: [] } });
    // A facet with no filter of its own is counted under all of them.
    expect(b.aggs.in_print.filter).toEqual(b.post_filter);
  });

  it('leaves the body as before when no facet is filtered on', () => {
    const b = body({ filter: 'year:1960..', facets: 'genre' });
    expect(b.post_filter).toBeUndefined();
    expect(b.aggs).toEqual({ genre: { terms: { field: 'genre', size: 10 } } });
    expect(body({ filter: 'genre:scifi' }).post_filter).toBeUndefined(); // no facets asked: a plain filter
  });

  it('never moves the tenant clause out of the main query, even on a facetable tenant field', () => {
    const tenanted = { ...books, tenantField: 'genre' };
    const req = request({ filter: 'genre:scifi', facets: 'genre' });
    const clause = tenantClause(tenanted, 'acme')!;
    const b = buildSearchBody(tenanted, { ...req, filters: [clause, ...req.filters] }) as any;
    expect(b.query.bool.filter).toEqual([{ terms: { genre: ['acme'] } }, { terms: { genre: ['scifi'] } }]);
    expect(b.post_filter).toBeUndefined();
  });

  it('reads the buckets of either aggregation shape', () => {
    const buckets = { buckets: [{ key: 'nes', doc_count: 3 }] };
    expect(facetTermsAgg(buckets)).toBe(buckets);
    expect(facetTermsAgg({ doc_count: 9, values: buckets })).toBe(buckets);
  });
});

describe('refinement facets on nested relations', () => {
  const nestedBody = (q: Record<string, string>) => buildSearchBody(orders, parseSearch(orders, new Params(q, SEARCH_PARAMS)).request) as any;
  const categoryTerms = { terms: { field: 'items.product.category', size: 10, order: [{ roots: 'desc' }, { _key: 'asc' }] }, aggs: { roots: { reverse_nested: {} } } };
  const toys = { terms: { 'items.product.category': ['toys'] } };

  it('moves a nested facet\'s filter to post_filter and still counts roots inside the filter aggregation', () => {
    const b = nestedBody({ filter: 'items.product.category:toys status:paid', facets: 'items.product.category,status' });
    expect(b.query).toEqual({ match_all: {} }); // status is a requested facet too
    expect(b.post_filter).toEqual({ bool: { filter: [{ nested: { path: 'items', score_mode: 'none', query: toys } }, { terms: { status: ['paid'] } }], must_not: [] } });
    expect(b.aggs['items.product.category']).toEqual({
      filter: { bool: { filter: [{ terms: { status: ['paid'] } }], must_not: [] } },
      aggs: { values: { nested: { path: 'items' }, aggs: { in: categoryTerms } } },
    });
    expect(b.aggs.status).toEqual({ filter: { bool: { filter: [{ nested: { path: 'items', score_mode: 'none', query: toys } }], must_not: [] } }, aggs: { values: { terms: { field: 'status', size: 10 } } } });
  });

  it('keeps clauses on one nested relation within one object: their companions join the post_filter', () => {
    const b = nestedBody({ filter: 'items.product.category:toys items.qty:2.. customer.country:fr', facets: 'items.product.category' });
    const qty = { range: { 'items.qty': { gte: 2 } } };
    // items.qty is no facet: it narrows every count in the main query...
    expect(b.query.bool.filter).toEqual([{ nested: { path: 'items', score_mode: 'none', query: qty } }, { terms: { 'customer.country': ['fr'] } }]);
    // ...and the hits hold a toy bought at least twice, in one item, not a toy and some item bought twice.
    expect(b.post_filter.bool.filter).toEqual([{ nested: { path: 'items', score_mode: 'none', query: { bool: { filter: [toys, qty] } } } }]);
    // The category facet counts under everything but its own clause.
    expect(b.aggs['items.product.category'].filter).toEqual({ bool: { filter: [{ nested: { path: 'items', score_mode: 'none', query: qty } }], must_not: [] } });
    expect(b.aggs['items.product.category'].aggs.values).toEqual({ nested: { path: 'items' }, aggs: { in: categoryTerms } });
  });

  it('refines with negated nested clauses and two nested levels, leaving unrelated relations alone', () => {
    const b = nestedBody({ filter: '-items.product.category:toys items.discounts.code:X tags.label:gift', facets: 'items.product.category,items.discounts.code' });
    expect(b.query.bool.filter).toEqual([{ terms: { 'tags.label': ['gift'] } }]);
    expect(b.post_filter.bool).toEqual({
      filter: [{ nested: { path: 'items', score_mode: 'none', query: { nested: { path: 'items.discounts', score_mode: 'none', query: { terms: { 'items.discounts.code': ['X'] } } } } } }],
      must_not: [{ nested: { path: 'items', score_mode: 'none', query: toys } }],
    });
    const code = b.aggs['items.discounts.code'];
    expect(code.filter).toEqual({ bool: { filter: [], must_not: [{ nested: { path: 'items', score_mode: 'none', query: toys } }] } });
    expect(code.aggs.values).toEqual({ nested: { path: 'items' }, aggs: { in: { nested: { path: 'items.discounts' }, aggs: { in: expect.objectContaining({ aggs: { roots: { reverse_nested: {} } } }) } } } });
  });
});
