import { testPipeline } from '../testing/fake-backend';
import { ANALYTICS_PARAMS, parseAnalytics } from '../analytics/analytics-params';
import { Params } from '../http/params';
import { SEARCH_PARAMS, parseSearch } from '../search/search-params';
import { cacheKey, canonicalJson } from './cache-key';

const books = testPipeline.indexes[0]!;
const searchKey = (raw: Record<string, unknown>, over: Partial<{ tenant: string; generation: string }> = {}) =>
  cacheKey({ tenant: 'acme', route: 'search', index: 'books', generation: 'g1', ...over, request: parseSearch(books, new Params(raw, SEARCH_PARAMS)).normalised });
const analyticsKey = (raw: Record<string, unknown>) => cacheKey({ tenant: 'acme', route: 'analytics', index: 'books', generation: 'g1', request: parseAnalytics(books, new Params(raw, ANALYTICS_PARAMS)).normalised });

describe('cache keys', () => {
  it('ignore key order at every depth and undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  });

  it('are shared by requests that mean the same: parameter order, defaults written out, spacing, filter order', () => {
    const base = searchKey({ q: 'dune', filter: 'genre:scifi year:1960..1970' });
    expect(searchKey({ filter: 'genre:scifi year:1960..1970', q: 'dune' })).toBe(base);
    expect(searchKey({ q: 'dune', filter: 'year:1960..1970 genre:scifi' })).toBe(base);
    expect(searchKey({ q: ' dune ', filter: 'genre:scifi  year:1960..1970', page: 1, size: 10, highlight: true, fuzzy: 'true', facetSize: '10' })).toBe(base);
    expect(analyticsKey({ groupBy: 'genre', metrics: 'count' })).toBe(analyticsKey({ metrics: 'count', groupBy: 'genre', groupSize: 10, composite: false }));
    expect(analyticsKey({})).toBe(analyticsKey({ metrics: 'count' }));
  });

  it('differ when the answer could differ: tenant, generation, route, any parameter', () => {
    const base = searchKey({ q: 'dune' });
    const others = [
      searchKey({ q: 'dune' }, { tenant: 'other' }),
      searchKey({ q: 'dune' }, { generation: 'g2' }),
      cacheKey({ tenant: 'acme', route: 'analytics', index: 'books', generation: 'g1', request: parseSearch(books, new Params({ q: 'dune' }, SEARCH_PARAMS)).normalised }),
      searchKey({ q: 'dune', page: 2 }),
      searchKey({ q: 'dune', size: 11 }),
      searchKey({ q: 'dune', fuzzy: false }),
      searchKey({ q: 'dune', highlight: false }),
      searchKey({ q: 'dune', sort: '-year' }),
      searchKey({ q: 'dune', facets: 'genre' }),
      searchKey({ q: 'dune', filter: 'genre:scifi' }),
      searchKey({ q: 'Dune' }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('leave read-your-writes parameters out: they change when the answer is given, not what it is', () => {
    expect(searchKey({ q: 'dune', minLsn: '123' })).toBe(searchKey({ q: 'dune' }));
  });

  it('name the route and index for operators and hash the rest', () => {
    expect(searchKey({ q: 'dune' })).toMatch(/^v1:search:books:[A-Za-z0-9_-]{43}$/);
  });
});
