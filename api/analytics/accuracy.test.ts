import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
import { ANALYTICS_PARAMS, parseAnalytics } from './analytics-params';
import { buildAnalyticsBody, parseAnalyticsResponse } from './es-analytics';

const parsed = (q: Record<string, string>) => parseAnalytics(books, new Params(q, ANALYTICS_PARAMS));
const aggs = (q: Record<string, string>) => (buildAnalyticsBody(parsed(q).request) as any).aggs;

describe('percentiles method', () => {
  it('keeps the t-digest default body, and asks for HDR or a higher compression when told', () => {
    expect(aggs({ metrics: 'percentiles(pages)', percents: '50' }).m0).toEqual({ percentiles: { field: 'pages', percents: [50] } });
    expect(aggs({ metrics: 'percentiles(pages)', percents: '50', percentilesMethod: 'hdr' }).m0).toEqual({ percentiles: { field: 'pages', percents: [50], hdr: { number_of_significant_value_digits: 3 } } });
    expect(aggs({ metrics: 'percentiles(pages)', percents: '50', compression: '1000' }).m0).toEqual({ percentiles: { field: 'pages', percents: [50], tdigest: { compression: 1000 } } });
  });
  it('refuses unknown methods and a compression with hdr', () => {
    expect(() => parsed({ metrics: 'percentiles(pages)', percentilesMethod: 'exact' })).toThrow(/percentilesMethod must be one of tdigest, hdr/);
    expect(() => parsed({ metrics: 'percentiles(pages)', percentilesMethod: 'hdr', compression: '200' })).toThrow(/compression applies to percentilesMethod=tdigest/);
    expect(() => parsed({ metrics: 'percentiles(pages)', compression: '5' })).toThrow(/between 20 and 5000/);
  });
  it('puts the method in the cache key only when percentiles are asked for', () => {
    expect(parsed({ metrics: 'percentiles(pages)', percentilesMethod: 'hdr' }).normalised.percentilesMethod).toBe('hdr');
    expect(parsed({ metrics: 'percentiles(pages)' }).normalised.percentilesMethod).toBe('tdigest:100');
    expect(parsed({ metrics: 'sum(pages)' }).normalised).not.toHaveProperty('percentilesMethod');
  });
});

describe('precision of sums and extremes', () => {
  const res = (values: Record<string, number | null>, groups = false) => {
    const metrics = Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value }]));
    return { took: 1, hits: { total: { value: 2 } }, aggregations: groups ? { ...metrics, g: { buckets: [{ key: 'x', doc_count: 2, ...metrics }] } } : metrics };
  };
  it('flags sum, avg, min and max beyond ±2^53 with exact: false, and says nothing otherwise', () => {
    const req = parsed({ metrics: 'sum(pages),max(pages),min(pages),avg(pages),cardinality(pages)' }).request;
    const big = 2 ** 53 + 2;
    const out = parseAnalyticsResponse(req, res({ m0: big, m1: big, m2: -big, m3: 2 ** 52, m4: big }));
    expect(out.exact).toEqual({ 'sum(pages)': false, 'max(pages)': false, 'min(pages)': false });
    expect(parseAnalyticsResponse(req, res({ m0: Number.MAX_SAFE_INTEGER, m1: 1, m2: null, m3: 1, m4: 1 }))).not.toHaveProperty('exact');
  });
  it('flags groups one by one', () => {
    const req = parsed({ metrics: 'sum(pages)', groupBy: 'genre' }).request;
    const out = parseAnalyticsResponse(req, res({ m0: 2 ** 60 }, true));
    expect(out.groups?.[0]?.exact).toEqual({ 'sum(pages)': false });
  });
});
