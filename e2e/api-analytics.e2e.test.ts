import { createApiIndex, softwareFixtures, type ApiIndex } from './support/api-index';
import { es } from './support/services';

/** The analytics API over real Elasticsearch, checked against the fixtures computed in JS. */
describe('analytics API against Elasticsearch', () => {
  const elastic = es();
  const fixtures = softwareFixtures();
  let ix: ApiIndex;
  const analytics = (query: Record<string, string | number | boolean>) => ix.http.get(ix.path('analytics')).query(query);
  const years = fixtures.map((f) => f.year as number);

  beforeAll(async () => {
    ix = await createApiIndex(elastic, fixtures);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.close();
  });

  it('computes count, sum, avg, min, max, percentiles and cardinality', async () => {
    const res = await analytics({ metrics: 'count,sum(year),avg(year),min(year),max(release_date),percentiles(rom_bytes),cardinality(publisher)', percents: '50' });
    expect(res.status).toBe(200);
    const m = res.body.metrics;
    expect(m.count).toBe(fixtures.length);
    expect(m['sum(year)']).toBe(years.reduce((a, b) => a + b, 0));
    expect(m['avg(year)']).toBeCloseTo(years.reduce((a, b) => a + b, 0) / years.length, 6);
    expect(m['min(year)']).toBe(Math.min(...years));
    expect(m['max(release_date)']).toMatch(/^1995-06-27T00:00:00/);
    expect(Object.keys(m['percentiles(rom_bytes)'])).toEqual(['50']);
    expect(m['cardinality(publisher)']).toBe(new Set(fixtures.map((f) => f.publisher)).size);
  });

  it('groups by terms with filters and metrics per group', async () => {
    const res = await analytics({ metrics: 'count,avg(year)', groupBy: 'publisher', filter: '-system:gameboy', groupSize: 3 });
    const expected = fixtures.filter((f) => f.system !== 'gameboy' && f.publisher === 'Nintendo');
    expect(res.body.groups).toHaveLength(3);
    expect(res.body.groups[0]).toEqual({ key: { publisher: 'Nintendo' }, count: expected.length, metrics: { count: expected.length, 'avg(year)': expected.reduce((a, f) => a + (f.year as number), 0) / expected.length } });
  });

  it('builds histograms with empty buckets, ranges, and calendar date histograms in a time zone', async () => {
    const hist = await analytics({ groupBy: 'year:5' });
    expect(hist.body.groups.map((g: any) => [g.key.year, g.count])).toEqual([[1985, years.filter((y) => y < 1990).length], [1990, years.filter((y) => y >= 1990 && y < 1995).length], [1995, years.filter((y) => y >= 1995).length]]);
    const ranges = await analytics({ groupBy: 'year', ranges: '..1990,1990..' });
    expect(ranges.body.groups.map((g: any) => [g.key.year, g.count])).toEqual([['..1990', years.filter((y) => y < 1990).length], ['1990..', years.filter((y) => y >= 1990).length]]);
    const monthly = await analytics({ groupBy: 'release_date:month', from: '1993-01-01', to: '1993-12-31', timeZone: 'Asia/Tokyo' });
    expect(monthly.status).toBe(200);
    expect(monthly.body.groups).toHaveLength(12); // empty months included, bounded by the time range
    expect(monthly.body.groups[0].key.release_date).toBe('1993-01-01T00:00:00.000+09:00');
    expect(monthly.body.total).toBe(fixtures.filter((f) => String(f.release_date).startsWith('1993')).length);
    const fixed = await analytics({ groupBy: 'release_date:30d', from: '1990', to: '1990' });
    expect(fixed.status).toBe(200);
    expect(fixed.body.total).toBe(1);
  });

  it('refuses too many buckets, from the time range or from the data', async () => {
    const tenYears = await analytics({ groupBy: 'release_date:1s', from: '2000-01-01', to: '2010-01-01' });
    expect([tenYears.status, tenYears.body.error.code]).toEqual([400, 'TOO_MANY_BUCKETS']);
    const fromData = await analytics({ groupBy: 'release_date:1m' });
    expect([fromData.status, fromData.body.error.code]).toEqual([400, 'TOO_MANY_BUCKETS']);
    expect(fromData.body.error.message).toMatch(/use an interval of at least \d+(d|h)/);
    expect((await analytics({ groupBy: 'release_date:week' })).status).toBe(200);
  });

  it('pages a large group-by with composite and after, visiting every group once', async () => {
    const keys: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await analytics({ groupBy: 'system,year', groupSize: 4, ...(after ? { after } : {}) });
      expect(res.status).toBe(200);
      keys.push(...res.body.groups.map((g: any) => `${g.key.system}/${g.key.year}`));
      after = res.body.after ?? undefined;
      if (!after) break;
    }
    const expected = [...new Set(fixtures.map((f) => `${f.system}/${f.year}`))].sort();
    expect(keys).toEqual(expected);
  });

  it('answers CSV by format or Accept', async () => {
    const res = await analytics({ metrics: 'count,max(year)', groupBy: 'system', groupSize: 2, format: 'csv' });
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const row = (system: string) => {
      const of = fixtures.filter((f) => f.system === system);
      return `${system},${of.length},${Math.max(...of.map((f) => f.year as number))}`;
    };
    expect(res.text).toBe(`system,count,max(year)\r\n${row('nes')}\r\n${row('snes')}\r\n`);
    const accept = await ix.http.get(ix.path('analytics')).query({ metrics: 'count,max(year)', groupBy: 'system', groupSize: 2 }).set('Accept', 'text/csv');
    expect(accept.text).toBe(res.text);
  });

  it('takes the same parameters as a POST body', async () => {
    const res = await ix.http.post(ix.path('analytics')).send({ metrics: 'count', groupBy: 'supported', groupSize: 5 });
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g: any) => g.key.supported).sort()).toEqual(['no', 'partial', 'yes']);
  });
});
