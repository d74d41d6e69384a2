import { createApiIndex, softwareFixtures, type ApiIndex } from './support/api-index';
import { es } from './support/services';

/**
 * The search API over real Elasticsearch: the demo mapping (from the indexer's code), fixture
 * documents, and the real EsSearchBackend behind supertest.
 */
describe('search API against Elasticsearch', () => {
  const elastic = es();
  const fixtures = softwareFixtures();
  let ix: ApiIndex;
  const search = (query: Record<string, string | number | boolean>) => ix.http.get(ix.path('search')).query(query);
  const titles = (res: { body: { hits: Array<{ document: { title: string } }> } }) => res.body.hits.map((h) => h.document.title);

  beforeAll(async () => {
    ix = await createApiIndex(elastic, fixtures);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.close();
  });

  it('ranks exact title matches first, boosted over other fields', async () => {
    const res = await search({ q: 'zelda' });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3);
    expect(titles(res).every((t: string) => t.includes('Zelda'))).toBe(true);
    expect(res.body.hits[0].highlight.title[0]).toContain('<mark>Zelda</mark>');
  });

  it('tolerates typos, while exact matches still rank above near misses', async () => {
    expect(titles(await search({ q: 'zelad' }))).toEqual(expect.arrayContaining(['The Legend of Zelda', 'Zelda II: The Adventure of Link']));
    expect(titles(await search({ q: 'castelvania' }))).toEqual(['Castlevania']);
    // "mario" is one edit from "maria": both match, the exact ones first.
    const mario = titles(await search({ q: 'mario' }));
    expect(mario.slice(0, 2).sort()).toEqual(['Super Mario Bros.', 'Super Mario World']);
    expect(mario).toContain('Super Maria Quest');
    expect(mario.indexOf('Super Maria Quest')).toBe(2);
    // Switched off, or with operators: exact only.
    expect(titles(await search({ q: 'zelad', fuzzy: false }))).toEqual([]);
    expect(titles(await search({ q: 'mario -world' }))).toEqual(['Super Mario Bros.']);
    expect((await search({ q: 'meg*' })).body.total).toBe(5); // Mega Man, Mega Man X, and three Mega Drive games (system_name)
  });

  it('filters, excludes, ranges, sorts and counts facets', async () => {
    const res = await search({ filter: 'system:nes,snes year:1986..1991 -supported:partial', sort: '-year,title', facets: 'system,publisher,year', size: 50 });
    expect(res.status).toBe(200);
    const docs = res.body.hits.map((h: any) => h.document);
    expect(docs.length).toBe(res.body.total);
    for (const d of docs) {
      expect(['nes', 'snes']).toContain(d.system);
      expect(d.year).toBeGreaterThanOrEqual(1986);
      expect(d.year).toBeLessThanOrEqual(1991);
      expect(d.supported).not.toBe('partial');
    }
    const order = docs.map((d: any) => [-d.year, d.title]);
    expect(order).toEqual([...order].sort((a: any, b: any) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)));
    // A refinement list: system counts under every filter but its own (year, -supported), so it
    // lists the systems not picked too, with the count each would give; ties by value.
    const counts = new Map<string, number>();
    for (const d of fixtures) if ((d.year as number) >= 1986 && (d.year as number) <= 1991 && d.supported !== 'partial') counts.set(d.system as string, (counts.get(d.system as string) ?? 0) + 1);
    const expected = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
    expect(res.body.facets.system).toEqual(expected);
    expect(expected.length).toBeGreaterThan(2);
    expect(res.body.facets.system.find((b: any) => b.value === 'nes').count).toBe(docs.filter((d: any) => d.system === 'nes').length);
    expect(res.body.facets.publisher[0]).toEqual({ value: 'Nintendo', count: docs.filter((d: any) => d.publisher === 'Nintendo').length });
    expect(typeof res.body.facets.year[0].value).toBe('number');
  });

  it('filters dates by whole years and text through .raw with quoted values', async () => {
    const res = await search({ filter: 'release_date:1993..1993 publisher:"Hudson Soft",Square', size: 50 });
    expect(titles(res).sort()).toEqual(['Secret of Mana', 'Super Maria Quest']);
  });

  it('pages by cursor through every document exactly once, bound to its query', async () => {
    const seen: string[] = [];
    let res = await search({ sort: 'title', size: 7, cursor: 'start' });
    for (let pages = 0; pages < 10; pages++) {
      expect(res.status).toBe(200);
      seen.push(...res.body.hits.map((h: any) => h.id));
      if (!res.body.cursor) break;
      res = await search({ sort: 'title', size: 7, cursor: res.body.cursor });
    }
    expect(seen.length).toBe(fixtures.length);
    expect(new Set(seen).size).toBe(fixtures.length);
    const titlesInOrder = seen.map((id) => fixtures.find((f) => f.id === id)!.title as string);
    expect(titlesInOrder).toEqual([...titlesInOrder].sort());

    const first = await search({ q: 'super', size: 1, cursor: 'start' });
    const other = await search({ q: 'mega', size: 1, cursor: first.body.cursor });
    expect([other.status, other.body.error.code]).toEqual([400, 'CURSOR_QUERY_MISMATCH']);
  });

  it('pages by relevance with cursors too', async () => {
    const a = await search({ q: 'super', size: 2, cursor: 'start' });
    const b = await search({ q: 'super', size: 2, cursor: a.body.cursor });
    const all = await search({ q: 'super', size: 10 });
    expect([...a.body.hits, ...b.body.hits].map((h: any) => h.id).sort()).toEqual(all.body.hits.slice(0, 4).map((h: any) => h.id).sort());
  });

  it('measures the time spent in Elasticsearch per operation', async () => {
    await search({ q: 'zelda' });
    const text = (await ix.http.get('/metrics')).text;
    expect(text).toMatch(/api_elasticsearch_seconds_count\{operation="search",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/api_elasticsearch_seconds_count\{operation="open_pit",outcome="ok"\} [1-9]/);
  });

  it('suggests distinct titles that start with the typed text, the most popular (rom_bytes) first', async () => {
    const res = await ix.http.get(ix.path('suggest')).query({ q: 'super m', size: 10 });
    expect(res.status).toBe(200);
    expect(res.body.field).toBe('title');
    expect(res.body.suggestions).toEqual(['Super Metroid', 'Super Maria Quest', 'Super Mario World', 'Super Mario Bros.']);
    const filtered = await ix.http.get(ix.path('suggest')).query({ q: 'the legend of z', filter: 'system:snes' });
    expect(filtered.body.suggestions).toEqual(['The Legend of Zelda: A Link to the Past']);
    // "zel" starts no title but Zelda II's: The Legend of Zelda holds the word, it does not start with it.
    expect((await ix.http.get(ix.path('suggest')).query({ q: 'zel' })).body.suggestions).toEqual(['Zelda II: The Adventure of Link']);
  });

  it('returns a document by id, and a 404 for an unknown id', async () => {
    const res = await ix.http.get(ix.path('documents/sw01'));
    expect(res.body).toMatchObject({ id: 'sw01', document: { title: 'The Legend of Zelda' } });
    const missing = await ix.http.get(ix.path('documents/nope'));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'DOCUMENT_NOT_FOUND']);
  });

  it('never answers 5xx to awkward input that passes validation', async () => {
    const odd = ['\\', '-', '+', '|', '""', '()', 'a -', '~1', 'a~', 'zz* yy*', '😀', 'a'.repeat(1000), 'ü ß é', '<script>', 'AND OR NOT', '%', '&&', '0', '-1', '1e308'];
    for (const q of odd) {
      const res = await search({ q });
      expect({ q, status: res.status < 500 }).toEqual({ q, status: true });
    }
    const res = await ix.http.post(ix.path('search')).send({ q: 'zelda', filter: 'rom_bytes:9223372036854775807 year:-2147483648..2147483647', size: 100 });
    expect(res.status).toBe(200);
  });

  it('answers a few of the bad-input list through the real backend with 4xx', async () => {
    for (const [query, code] of [
      [{ q: 'a AND (' }, 'QUERY_SYNTAX'],
      [{ q: 'tenant_id:*' }, 'QUERY_FIELD_SYNTAX'],
      [{ filter: 'tenant_id:*' }, 'FILTER_FIELD_NOT_ALLOWED'],
      [{ size: 1_000_000 }, 'PARAM_OUT_OF_RANGE'],
      [{ page: 101, size: 100 }, 'PAGE_TOO_DEEP'],
      [{ cursor: 'forged.cursor' }, 'CURSOR_INVALID'],
    ] as const) {
      const res = await search(query);
      expect([res.status, res.body.error.code]).toEqual([400, code]);
    }
    const all = await ix.http.get('/v1/indexes/_all/search?q=x');
    expect(all.status).toBe(404);
  });
});
