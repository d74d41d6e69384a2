import { tenantClause } from '../auth/tenant-scope';
import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
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
