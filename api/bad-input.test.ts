import zlib from 'node:zlib';
import { testApp } from './testing/test-app';

/**
 * docs/reliability.md "Bad input the API answers with a clear 4xx": each item that applies to
 * the routes that exist, through the whole app. Every answer is a 4xx in the one error shape.
 */
const S = '/v1/indexes/books/search';
const A = '/v1/indexes/books/analytics';

function expectError(res: { status: number; body: { error?: { code?: string; message?: string } } }, status: number, code: string): void {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(res.body.error?.message).toEqual(expect.any(String));
}

describe('bad query-string input', () => {
  it.each([
    // unbalanced syntax
    [`${S}?q=${encodeURIComponent('a AND (')}`, 400, 'QUERY_SYNTAX'],
    [`${S}?q=${encodeURIComponent('"x')}`, 400, 'QUERY_SYNTAX'],
    [`${S}?q=${encodeURIComponent('a)')}`, 400, 'QUERY_SYNTAX'],
    [`${S}?filter=${encodeURIComponent('genre:"sf')}`, 400, 'FILTER_INVALID'],
    [`${S}?filter=${encodeURIComponent('genre:')}`, 400, 'FILTER_INVALID'],
    // field smuggling
    [`${S}?q=${encodeURIComponent('tenant_id:*')}`, 400, 'QUERY_FIELD_SYNTAX'],
    [`${S}?q=${encodeURIComponent('dune _id:1')}`, 400, 'QUERY_FIELD_SYNTAX'],
    [`${S}?filter=${encodeURIComponent('tenant_id:*')}`, 400, 'FILTER_FIELD_NOT_ALLOWED'],
    [`${S}?filter=${encodeURIComponent('_index:books')}`, 400, 'FILTER_INVALID'],
    [`${S}?sort=tenant_id`, 400, 'SORT_FIELD_NOT_ALLOWED'],
    [`${S}?facets=tenant_id`, 400, 'FACET_FIELD_NOT_ALLOWED'],
    [`${A}?groupBy=body`, 400, 'ANALYTICS_FIELD_NOT_ALLOWED'],
    // regex and wildcard bombs
    [`${S}?q=${encodeURIComponent('/.*a.*b.*c.*/')}`, 400, 'QUERY_REGEX'],
    [`${S}?q=*`, 400, 'QUERY_WILDCARD'],
    [`${S}?q=${encodeURIComponent('a*')}`, 400, 'QUERY_WILDCARD'],
    [`${S}?q=${encodeURIComponent('*une')}`, 400, 'QUERY_WILDCARD'],
    [`${S}?q=${encodeURIComponent('du* ar* sp* wo*')}`, 400, 'QUERY_WILDCARD'],
    [`${S}?q=${encodeURIComponent(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))}`, 400, 'QUERY_TOO_COMPLEX'],
    // long queries and odd characters
    [`${S}?q=${'a'.repeat(2000)}`, 400, 'QUERY_TOO_LONG'],
    [`${S}?q=%00`, 400, 'PARAM_INVALID_CHARACTERS'],
    [`${S}?filter=genre:a%00b`, 400, 'PARAM_INVALID_CHARACTERS'],
    // repeated and unknown parameters
    [`${S}?q=a&q=b`, 400, 'PARAM_REPEATED'],
    [`${S}?size=1&size=2`, 400, 'PARAM_REPEATED'],
    [`${S}?sizee=5`, 400, 'PARAM_UNKNOWN'],
    [`${S}?__proto__=x`, 400, 'PARAM_UNKNOWN'],
    [`${S}?constructor=x`, 400, 'PARAM_UNKNOWN'],
    // numbers: NaN, negative, huge, fractional, deep pages
    [`${S}?size=NaN`, 400, 'PARAM_INVALID'],
    [`${S}?size=-1`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${S}?size=1e6`, 400, 'PARAM_INVALID'],
    [`${S}?size=1000000`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${S}?size=99999999999999999999999`, 400, 'PARAM_INVALID'],
    [`${S}?size=1.5`, 400, 'PARAM_INVALID'],
    [`${S}?size=`, 400, 'PARAM_INVALID'],
    [`${S}?highlight=`, 400, 'PARAM_INVALID'],
    [`${A}?groupSize=`, 400, 'PARAM_INVALID'],
    [`${A}?composite=`, 400, 'PARAM_INVALID'],
    [`${S}?page=0`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${S}?page=2000&size=10`, 400, 'PAGE_TOO_DEEP'],
    [`${S}?page=10000&size=100`, 400, 'PAGE_TOO_DEEP'],
    [`${S}?facets=genre&facetSize=100000`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${S}?highlight=maybe`, 400, 'PARAM_INVALID'],
    [`${S}?filter=year:abc`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=year:99999999999`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=price:NaN`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=price:1e999`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=year:2000..1990`, 400, 'FILTER_INVALID'],
    [`${S}?filter=genre:a..b`, 400, 'FILTER_INVALID'],
    [`${S}?filter=published:1994-13-01`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=in_print:yes`, 400, 'FILTER_VALUE_INVALID'],
    // cursors that this API did not issue
    [`${S}?cursor=garbage`, 400, 'CURSOR_INVALID'],
    [`${S}?cursor=a.b.c`, 400, 'CURSOR_INVALID'],
    // analytics: huge terms size, bad metrics, nested or conflicting groupings, bad time zones
    [`${A}?groupBy=genre&groupSize=1000000`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${A}?metrics=avg(genre)`, 400, 'METRIC_INVALID'],
    [`${A}?metrics=avg(year`, 400, 'METRIC_INVALID'],
    [`${A}?metrics=script(year)`, 400, 'METRIC_INVALID'],
    [`${A}?groupBy=genre,year,price,pages`, 400, 'PARAM_OUT_OF_RANGE'],
    [`${A}?groupBy=genre:10`, 400, 'GROUP_INVALID'],
    [`${A}?groupBy=year:0`, 400, 'GROUP_INVALID'],
    [`${A}?groupBy=year:-5`, 400, 'GROUP_INVALID'],
    [`${A}?groupBy=published:fortnight`, 400, 'GROUP_INVALID'],
    [`${A}?groupBy=published:1s&from=2010&to=2020`, 400, 'TOO_MANY_BUCKETS'],
    [`${A}?groupBy=genre&ranges=1..2`, 400, 'GROUP_INVALID'],
    [`${A}?groupBy=genre,year&ranges=1..2`, 400, 'PARAM_CONFLICT'],
    [`${A}?groupBy=published:day&timeZone=Mars/Olympus`, 400, 'PARAM_INVALID'],
    [`${A}?from=2020&to=2010`, 400, 'PARAM_INVALID'],
    [`${A}?from=yesterday`, 400, 'PARAM_INVALID'],
    // dates Date.parse rolls over and offsets Elasticsearch refuses: named here, not QUERY_REJECTED there
    [`${A}?from=2020-02-30`, 400, 'PARAM_INVALID'],
    [`${A}?to=2021-02-29`, 400, 'PARAM_INVALID'],
    [`${A}?from=2020-01-01T10:00%2B19:00`, 400, 'PARAM_INVALID'],
    [`${A}?groupBy=published:day&timeZone=%2B18:30`, 400, 'PARAM_INVALID'],
    [`${A}?groupBy=published:day&timeZone=-19:00`, 400, 'PARAM_INVALID'],
    [`${S}?filter=published:2020-04-31`, 400, 'FILTER_VALUE_INVALID'],
    [`${S}?filter=published:2020-01-01T24:00`, 400, 'FILTER_VALUE_INVALID'],
    // percent-encoded bytes that are not UTF-8 (Koa's parser would make them U+FFFD)
    [`${S}?q=%FF`, 400, 'PARAM_INVALID_CHARACTERS'],
    [`${S}?q=caf%C3`, 400, 'PARAM_INVALID_CHARACTERS'],
    [`${S}?q=%ED%A0%80`, 400, 'PARAM_INVALID_CHARACTERS'],
    [`${S}?%FF=1`, 400, 'PARAM_INVALID_CHARACTERS'],
    ['/v1/indexes/books/documents/1?minLsn=%FF', 400, 'PARAM_INVALID_CHARACTERS'],
    [`${A}?groupBy=genre&after=bm90IGpzb24`, 400, 'AFTER_INVALID'],
    [`${A}?format=xml`, 400, 'PARAM_INVALID'],
    // index names that must never reach Elasticsearch
    ['/v1/indexes/*/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/_all/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/%2F_cluster/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/books,other/search?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/_all/analytics', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/%2A/documents/1', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/_all/suggest?q=x', 404, 'INDEX_NOT_FOUND'],
    ['/v1/indexes/books/suggest?q=%00', 400, 'PARAM_INVALID_CHARACTERS'],
    [`/v1/indexes/books/suggest?q=${'a'.repeat(200)}`, 400, 'QUERY_TOO_LONG'],
    ['/v1/indexes/books/suggest?q=x&q=y', 400, 'PARAM_REPEATED'],
    ['/nowhere', 404, 'ROUTE_NOT_FOUND'],
  ])('GET %s → %i %s', async (url, status, code) => {
    const { http, backend } = testApp();
    expectError(await http.get(url), status, code);
    expect(backend.searches).toEqual([]);
    expect(backend.analyticsCalls).toEqual([]);
  });

  it('answers a 100 KB query string with a 4xx, not a crash', async () => {
    const res = await testApp().http.get(`${S}?q=${'a'.repeat(100_000)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('answers malformed percent-encoding in the path with a 4xx', async () => {
    const { http } = testApp();
    for (const url of ['/v1/indexes/%E0%A4%A/search', '/v1/indexes/books/documents/%ED%A0%80', '/v1/indexes/books/documents/%ZZ']) {
      const res = await http.get(url);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  it('answers a wrong or unknown method with 405 and the allowed ones', async () => {
    const { http } = testApp();
    const del = await http.delete(S);
    expectError(del, 405, 'METHOD_NOT_ALLOWED');
    expect(del.headers.allow).toMatch(/GET.*POST|POST.*GET/);
    expectError(await http.trace('/healthz'), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('bad bodies', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = S) => {
    const req = testApp().http.post(path);
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    // Send bytes as they are: superagent would otherwise JSON-encode a Buffer.
    return req.serialize((b: unknown) => b as string).send(body as string);
  };
  it.each([
    ['{"__proto__": {"size": 1}}', 'BODY_FORBIDDEN_KEY'],
    ['{"q": "x", "constructor": {"prototype": {}}}', 'BODY_FORBIDDEN_KEY'],
    ['{"q": {"nested": {"deep": 1}}}', 'PARAM_INVALID'],
    ['{"q": ["a", "b"]}', 'PARAM_REPEATED'],
    ['{"q": "\\ud800"}', 'PARAM_INVALID_CHARACTERS'],
    ['{"q": "a\\u0000b"}', 'PARAM_INVALID_CHARACTERS'],
    ['{"size": 1e400}', 'PARAM_INVALID'],
    ['{"size": -3}', 'PARAM_OUT_OF_RANGE'],
    ['{"size": 2.5}', 'PARAM_INVALID'],
    ['{"size": "1e6"}', 'PARAM_INVALID'],
    ['{"q": "x",', 'BODY_INVALID_JSON'],
    ['[1, 2]', 'BODY_INVALID'],
    ['"q"', 'BODY_INVALID'],
    ['{"nope": 1}', 'PARAM_UNKNOWN'],
    ['{"q": 5}', 'PARAM_INVALID'],
    ['{"size": "5"}', 'PARAM_INVALID'],
    ['{"fuzzy": "yes"}', 'PARAM_INVALID'],
    ['{"q": null}', 'PARAM_INVALID'],
    ['{"size": 5, "size": 100}', 'PARAM_REPEATED'],
    ['{"q": "a", "\\u0071": "b"}', 'PARAM_REPEATED'],
    [`{"q": ${'['.repeat(65)}${']'.repeat(65)}}`, 'BODY_TOO_DEEP'],
  ])('POST %s → 400 %s', async (body, code) => {
    expectError(await post(body), 400, code);
  });
  it('refuses a 10,000-deep body with a clear 400, not a stack overflow', async () => {
    const deep = `{"q": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const http = testApp(undefined, { maxBodyBytes: 65_536 }).http;
    const res = await http.post(S).set('content-type', 'application/json').send(deep);
    expectError(res, 400, 'BODY_TOO_DEEP');
    expect(res.body.error.message).toMatch(/flat object/);
  });
  it('accepts the same key in different objects and valid dates at the edges', async () => {
    expect((await post('{"q": "x", "size": 5}')).status).toBe(200);
    const { http } = testApp();
    for (const q of ['from=2020-02-29&to=2020-12-31T23:59:59.999%2B18:00', 'groupBy=published:day&timeZone=-18:00', 'groupBy=published:day&timeZone=%2B05:45']) {
      expect([q, (await http.get(`${A}?${q}`)).status]).toEqual([q, 200]);
    }
    expect((await http.get(`${S}?q=caf%C3%A9+100%25+%zz`)).status).toBe(200);
  });
  it('refuses a parameter given in both the query string and the body', async () => {
    const res = await testApp().http.post(`${S}?q=a`).send({ q: 'b' });
    expectError(res, 400, 'PARAM_REPEATED');
  });
  it('refuses a body that is not UTF-8', async () => {
    expectError(await post(Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), 400, 'BODY_INVALID_JSON');
  });
  it('refuses wrong content types and encodings with 415', async () => {
    expectError(await post('q=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('{"q":"x"}', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('{"q":"x"}', { 'content-type': 'application/json', 'content-encoding': 'br' }), 415, 'UNSUPPORTED_ENCODING');
  });
  it('refuses an oversized body with 413', async () => {
    expectError(await post(JSON.stringify({ q: 'a'.repeat(10_000) })), 413, 'BODY_TOO_LARGE');
  });
  it('refuses a gzip bomb with 413 without inflating it', async () => {
    const bomb = zlib.gzipSync(Buffer.from(`{"q":"${' '.repeat(50_000_000)}"}`));
    expect(bomb.length).toBeLessThan(100_000);
    expectError(await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413, 'BODY_TOO_LARGE');
  });
  it('refuses a body that claims gzip but is not', async () => {
    expectError(await post('{"q":"x"}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, 'BODY_UNREADABLE');
  });
  it('accepts a gzip body within the limit', async () => {
    const res = await post(zlib.gzipSync(Buffer.from('{"q":"dune","size":3}')), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.body.size).toBe(3);
  });
  it('refuses a 100 KB q in a body', async () => {
    expect((await post(JSON.stringify({ q: 'a'.repeat(100_000) }))).status).toBe(413);
  });
  it('refuses bad analytics bodies too', async () => {
    expectError(await post('{"groupBy": "genre", "groupSize": 100000}', undefined, A), 400, 'PARAM_OUT_OF_RANGE');
    expectError(await post('{"metrics": {"avg": {"script": "x"}}}', undefined, A), 400, 'PARAM_INVALID');
  });
});
