import { Params } from '../http/params';
import { books } from '../testing/fake-backend';
import { ANALYTICS_PARAMS, parseAnalytics } from './analytics-params';
import { toCsv } from './csv';
import { buildAnalyticsBody, parseAnalyticsResponse } from './es-analytics';

const parse = (q: Record<string, string>) => parseAnalytics(books, new Params(q, ANALYTICS_PARAMS)).request;

describe('analytics parameters → aggregations', () => {
  it('computes metrics without groups', () => {
    const b = buildAnalyticsBody(parse({ metrics: 'count,sum(price),percentiles(pages),cardinality(author),max(published)', percents: '50,99' })) as any;
    expect(b.size).toBe(0);
    expect(b.aggs).toEqual({
      m1: { sum: { field: 'price' } },
      m2: { percentiles: { field: 'pages', percents: [50, 99] } },
      m3: { cardinality: { field: 'author.raw', precision_threshold: 3000 } },
      m4: { max: { field: 'published' } },
    });
  });
  it('groups by terms with a bounded size, metrics inside each bucket', () => {
    const b = buildAnalyticsBody(parse({ metrics: 'avg(year)', groupBy: 'genre', groupSize: '25', filter: 'in_print:true' })) as any;
    expect(b.aggs.g).toEqual({ terms: { field: 'genre', size: 25 }, aggs: { m0: { avg: { field: 'year' } } } });
    expect(b.query.bool.filter).toEqual([{ terms: { in_print: [true] } }]);
  });
  it('builds histograms, calendar and fixed date histograms with a time zone and the time range', () => {
    expect((buildAnalyticsBody(parse({ groupBy: 'year:10' })) as any).aggs.g).toEqual({ histogram: { field: 'year', interval: 10, min_doc_count: 0 } });
    const cal = buildAnalyticsBody(parse({ groupBy: 'published:month', timeZone: 'Europe/Paris', from: '1990', to: '1999-12-31' })) as any;
    expect(cal.aggs.g.date_histogram).toMatchObject({ field: 'published', calendar_interval: 'month', time_zone: 'Europe/Paris', min_doc_count: 0 });
    expect(cal.query.bool.filter).toEqual([{ range: { published: { gte: '1990', lte: '1999-12-31||/d' } } }]);
    expect((buildAnalyticsBody(parse({ groupBy: 'published:6h' })) as any).aggs.g.date_histogram.fixed_interval).toBe('6h');
  });
  it('builds range buckets', () => {
    expect((buildAnalyticsBody(parse({ groupBy: 'year', ranges: '..1990,1990..2000,2000..' })) as any).aggs.g).toEqual({
      range: { field: 'year', ranges: [{ key: '..1990', to: 1990 }, { key: '1990..2000', from: 1990, to: 2000 }, { key: '2000..', from: 2000 }] },
    });
  });
  it('pages large group-bys with composite and after', () => {
    const req = parse({ groupBy: 'genre,published:year', groupSize: '2', after: Buffer.from(JSON.stringify({ genre: 'sf', published: '1990-01-01T00:00:00.000Z' })).toString('base64url') });
    const b = buildAnalyticsBody(req) as any;
    expect(b.aggs.g.composite).toEqual({
      size: 2,
      sources: [{ genre: { terms: { field: 'genre', missing_bucket: true } } }, { published: { date_histogram: { field: 'published', calendar_interval: 'year', format: 'strict_date_optional_time' } } }],
      after: { genre: 'sf', published: '1990-01-01T00:00:00.000Z' },
    });
    const full = parseAnalyticsResponse(req, { took: 1, hits: { total: { value: 9 } }, aggregations: { g: { after_key: { genre: 'sf', published: 'x' }, buckets: [{ key: { genre: 'sf', published: 'a' }, doc_count: 2 }, { key: { genre: 'sf', published: 'x' }, doc_count: 1 }] } } });
    expect(full.after).toEqual({ genre: 'sf', published: 'x' });
    const last = parseAnalyticsResponse(req, { took: 1, hits: { total: { value: 9 } }, aggregations: { g: { after_key: { genre: 'z' }, buckets: [{ key: { genre: 'z', published: 'a' }, doc_count: 2 }] } } });
    expect(last.after).toBeNull();
  });
  it('reads metrics and buckets back into plain rows, and writes CSV with percentile columns', () => {
    const req = parse({ metrics: 'count,avg(year),percentiles(price)', groupBy: 'in_print', percents: '50,99' });
    const res = parseAnalyticsResponse(req, {
      took: 3,
      hits: { total: { value: 5 } },
      aggregations: {
        m1: { value: 1980 },
        m2: { values: { '50.0': 10, '99.0': 20 } },
        g: { buckets: [{ key: 1, key_as_string: 'true', doc_count: 5, m1: { value: 1980 }, m2: { values: { '50.0': 10, '99.0': null } } }] },
      },
    });
    expect(res).toEqual({
      tookMs: 3,
      total: 5,
      metrics: { count: 5, 'avg(year)': 1980, 'percentiles(price)': { '50': 10, '99': 20 } },
      groups: [{ key: { in_print: true }, count: 5, metrics: { count: 5, 'avg(year)': 1980, 'percentiles(price)': { '50': 10, '99': null } } }],
    });
    expect(toCsv(req, res)).toBe('in_print,count,avg(year),percentiles(price).p50,percentiles(price).p99\r\ntrue,5,1980,10,\r\n');
  });
  it('quotes CSV cells with commas, quotes and newlines', () => {
    const req = parse({ groupBy: 'genre' });
    expect(toCsv(req, { tookMs: 1, total: 1, metrics: { count: 1 }, groups: [{ key: { genre: 'a,"b"\nc' }, count: 1, metrics: { count: 1 } }] })).toBe('genre,count\r\n"a,""b""\nc",1\r\n');
  });
});
