import { FakeBackend } from './testing/fake-backend';
import { testApp as app } from './testing/test-app';
import { VERSION } from '../core/version';

describe('search route', () => {
  it('searches with defaults', async () => {
    const { backend, http } = app();
    const res = await http.get('/v1/indexes/books/search?q=dune');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ index: 'books', q: 'dune', page: 1, size: 10, total: 1 });
    expect(res.body.hits[0].document.title).toBe('Dune');
    expect(backend.searches[0]).toMatchObject({ q: 'dune', size: 10, from: 0, fuzzy: true, highlight: true, filters: [], sort: [], facets: [] });
  });
  it('parses filter, sort, facets and paging', async () => {
    const { backend, http } = app();
    const res = await http.get('/v1/indexes/books/search').query({ q: 'x', filter: 'genre:sf,fantasy year:1960..1970 -in_print:false', sort: '-year,title', facets: 'genre,author', facetSize: 5, page: 3, size: 20 });
    expect(res.status).toBe(200);
    const req = backend.searches[0]!;
    expect(req.from).toBe(40);
    expect(req.sort).toEqual([{ field: 'year', esField: 'year', order: 'desc' }, { field: 'title', esField: 'title.raw', order: 'asc' }]);
    expect(req.facets).toEqual([{ field: 'genre', esField: 'genre' }, { field: 'author', esField: 'author.raw' }]);
    expect(req.facetSize).toBe(5);
    expect(req.filters.map((f) => [f.field, f.kind, f.negate])).toEqual([['genre', 'terms', false], ['year', 'range', false], ['in_print', 'terms', true]]);
  });
  it('takes the same parameters as a JSON body on POST', async () => {
    const { backend, http } = app();
    const res = await http.post('/v1/indexes/books/search').send({ q: 'dune', size: 5, filter: 'year:1965', fuzzy: false });
    expect(res.status).toBe(200);
    expect(backend.searches[0]).toMatchObject({ q: 'dune', size: 5, fuzzy: false });
  });
  it('pages with signed cursors bound to the query', async () => {
    const { backend, http } = app();
    backend.searchResult = { ...backend.searchResult, next: { pitId: 'pit-1', searchAfter: [1.5, 42] } };
    const first = await http.get('/v1/indexes/books/search?q=dune&size=1&cursor=start');
    expect(first.status).toBe(200);
    expect(backend.searches[0]!.cursor).toBe('start');
    expect(first.body.page).toBeUndefined();
    const cursor = first.body.cursor as string;
    expect(cursor).toMatch(/^[\w-]+\.[\w-]+$/);
    const second = await http.get('/v1/indexes/books/search').query({ q: 'dune', size: 1, cursor });
    expect(second.status).toBe(200);
    expect(backend.searches[1]!.cursor).toEqual({ pitId: 'pit-1', searchAfter: [1.5, 42] });
    // Another query, a tampered cursor, or page and cursor together: 400.
    const other = await http.get('/v1/indexes/books/search').query({ q: 'other', size: 1, cursor });
    expect([other.status, other.body.error.code]).toEqual([400, 'CURSOR_QUERY_MISMATCH']);
    const [payload, mac] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify({ p: 'pit-2', a: [0], h: JSON.parse(Buffer.from(payload!, 'base64url').toString()).h })).toString('base64url');
    const tampered = await http.get('/v1/indexes/books/search').query({ q: 'dune', cursor: `${forged}.${mac}` });
    expect([tampered.status, tampered.body.error.code]).toEqual([400, 'CURSOR_INVALID']);
    const both = await http.get('/v1/indexes/books/search').query({ q: 'dune', cursor, page: 2 });
    expect([both.status, both.body.error.code]).toEqual([400, 'PARAM_CONFLICT']);
  });
  it('returns null as the cursor after the last page', async () => {
    const { http } = app();
    const res = await http.get('/v1/indexes/books/search?cursor=start');
    expect(res.body.cursor).toBeNull();
  });
});

describe('suggest route', () => {
  it('suggests from the highest-boost text field and needs q', async () => {
    const { http } = app();
    expect((await http.get('/v1/indexes/books/suggest?q=du')).body).toEqual({ index: 'books', q: 'du', field: 'title', suggestions: ['Dune', 'Dune Messiah'] });
    const missing = await http.get('/v1/indexes/books/suggest');
    expect([missing.status, missing.body.error.code]).toEqual([400, 'PARAM_MISSING']);
    const big = await http.get('/v1/indexes/books/suggest?q=du&size=500');
    expect([big.status, big.body.error.code]).toEqual([400, 'PARAM_OUT_OF_RANGE']);
  });
});

describe('documents route', () => {
  it('returns a document or a 404 in the error shape', async () => {
    const { http } = app();
    expect((await http.get('/v1/indexes/books/documents/1')).body).toEqual({ index: 'books', id: '1', document: { title: 'Dune' }, asOf: { lsn: null, ageMs: null }, stale: false, cache: 'bypass' });
    const missing = await http.get('/v1/indexes/books/documents/2');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'DOCUMENT_NOT_FOUND']);
    const long = await http.get(`/v1/indexes/books/documents/${'x'.repeat(600)}`);
    expect([long.status, long.body.error.code]).toEqual([400, 'ID_INVALID']);
    const wide = await http.get(`/v1/indexes/books/documents/${encodeURIComponent('€'.repeat(200))}`);
    expect([wide.status, wide.body.error.code]).toEqual([400, 'ID_INVALID']);
  });
  it('looks up any id a row can have, control characters included', async () => {
    const backend = new FakeBackend();
    for (const id of ['a\u0001b', 'tab\there', 'x\u001fy', 'line\nbreak']) backend.documents[id] = { title: id };
    const { http } = app(backend);
    for (const id of Object.keys(backend.documents).filter((k) => k !== '1')) {
      const res = await http.get(`/v1/indexes/books/documents/${encodeURIComponent(id)}`);
      expect([id, res.status, res.body.id, res.body.document?.title]).toEqual([id, 200, id, id]);
    }
  });
});

describe('analytics route', () => {
  it('answers JSON, and CSV by format or Accept', async () => {
    const { backend, http } = app();
    backend.analyticsResult = { tookMs: 1, total: 3, metrics: { count: 3, 'avg(year)': 1970 }, groups: [{ key: { genre: 'sf' }, count: 2, metrics: { count: 2, 'avg(year)': 1965 } }, { key: { genre: '=cmd' }, count: 1, metrics: { count: 1, 'avg(year)': 1980 } }] };
    const json = await http.get('/v1/indexes/books/analytics?metrics=count,avg(year)&groupBy=genre');
    expect(json.status).toBe(200);
    expect(json.body.groups[0]).toEqual({ key: { genre: 'sf' }, count: 2, metrics: { count: 2, 'avg(year)': 1965 } });
    const csv = await http.get('/v1/indexes/books/analytics?metrics=count,avg(year)&groupBy=genre&format=csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text).toBe("genre,count,avg(year)\r\nsf,2,1965\r\n'=cmd,1,1980\r\n");
    const accept = await http.get('/v1/indexes/books/analytics?metrics=count,avg(year)&groupBy=genre').set('Accept', 'text/csv');
    expect(accept.text).toBe(csv.text);
  });
  it('encodes the composite after key and accepts it back', async () => {
    const { backend, http } = app();
    backend.analyticsResult = { tookMs: 1, total: 3, metrics: { count: 3 }, groups: [{ key: { genre: 'sf', year: 1960 }, count: 3, metrics: { count: 3 } }], after: { genre: 'sf', year: 1960 } };
    const res = await http.get('/v1/indexes/books/analytics?groupBy=genre,year:10&groupSize=1');
    expect(backend.analyticsCalls[0]!.composite).toBe(true);
    const next = await http.get('/v1/indexes/books/analytics').query({ groupBy: 'genre,year:10', groupSize: 1, after: res.body.after });
    expect(next.status).toBe(200);
    expect(backend.analyticsCalls[1]!.after).toEqual({ genre: 'sf', year: 1960 });
  });
  it('refuses a 1-second histogram over ten years and says what to change', async () => {
    const res = await app().http.get('/v1/indexes/books/analytics?groupBy=published:1s&from=2010-01-01&to=2020-01-01');
    expect([res.status, res.body.error.code]).toEqual([400, 'TOO_MANY_BUCKETS']);
    expect(res.body.error.message).toMatch(/about 315,\d{3},\d{3} buckets; at most 2000 are allowed: use an interval of at least 2d/);
  });
  it('checks the bucket count against the data when no time range is given', async () => {
    const { backend, http } = app();
    backend.range = { min: 0, max: 1_000_000 };
    const res = await http.get('/v1/indexes/books/analytics?groupBy=year:1');
    expect([res.status, res.body.error.code]).toEqual([400, 'TOO_MANY_BUCKETS']);
    expect((await http.get('/v1/indexes/books/analytics?groupBy=year:1000')).status).toBe(200);
  });
});

describe('health, metrics, docs', () => {
  it('serves health, metrics, the OpenAPI document and the docs page', async () => {
    const { http } = app();
    expect((await http.get('/healthz')).body).toEqual({ status: 'ok', version: VERSION });
    expect((await http.get('/readyz')).status).toBe(200);
    await http.get('/v1/indexes/books/search?q=x');
    const metrics = await http.get('/metrics');
    expect(metrics.text).toContain('api_request_seconds_count{method="GET",route="/v1/indexes/:index/search",status="200"} 1');
    expect(metrics.text).toContain('# TYPE api_elasticsearch_seconds histogram');
    expect((await http.get('/openapi.json')).body.openapi).toBe('3.0.3');
    const docs = await http.get('/docs');
    expect(docs.headers['content-type']).toMatch(/text\/html/);
    expect(docs.text).not.toMatch(/https?:\/\//); // nothing loaded from the internet
  });
});
