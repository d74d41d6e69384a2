import request from 'supertest';
import { generateApiKey } from '../../core/api-keys/api-key';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { Authenticator } from '../auth/authenticator';
import { Params } from '../http/params';
import { createApiMetrics } from '../metrics';
import { books, FakeBackend, testPipeline } from '../testing/fake-backend';
import { testApp } from '../testing/test-app';
import { buildSearchBody } from '../search/query-builder';
import { SEARCH_PARAMS, parseSearch } from '../search/search-params';
import { compileSynonyms } from './rules';
import { SynonymCache } from './synonym-cache';
import { MemorySynonymStore } from './synonym-store';

const FIELDS = ['title^3', 'body', 'author'];
const sqs = (query: string, boost?: number) => ({ simple_query_string: expect.objectContaining({ query, fields: FIELDS, default_operator: 'and', ...(boost ? { boost } : {}) }) });
// A plain query is ranked (search/ranking.ts): its first clause holds the exact words.
const words = (g: any) => (g.dis_max ?? g.bool.must[0].dis_max).queries[0].constant_score.filter;
const body = (q: Record<string, string>, rules: string[]) =>
  buildSearchBody(books, { ...parseSearch(books, new Params(q, SEARCH_PARAMS)).request, synonyms: compileSynonyms(rules) }) as any;

describe('synonym rules', () => {
  it('compiles multi-way and one-way rules, lowercased', () => {
    const s = compileSynonyms(['Laptop, notebook', 'tv, telly => television', 'flat screen => television set']);
    expect(s.alternatives.get('laptop')).toEqual(['notebook']);
    expect(s.alternatives.get('notebook')).toEqual(['laptop']);
    expect(s.alternatives.get('tv')).toEqual(['television']);
    expect(s.alternatives.get('television')).toBeUndefined(); // one-way
    expect(s.alternatives.get('flat screen')).toEqual(['television set']);
    expect(s.longestPhrase).toBe(2);
    expect(s.version).toMatch(/^[\w-]{16}$/);
    expect(compileSynonyms([]).version).toBeNull();
  });
  it('refuses rules that are not rules, naming the index of the bad one', () => {
    expect(() => compileSynonyms(['tv'])).toThrow(/rules\[0\]: a multi-way rule needs at least two phrases/);
    expect(() => compileSynonyms(['a, b', 'a => b => c'])).toThrow(/rules\[1\]: has more than one "=>"/);
    expect(() => compileSynonyms(['a, b|c'])).toThrow(/query operator/);
    expect(() => compileSynonyms(['a, , b'])).toThrow(/empty phrase/);
    expect(() => compileSynonyms([5])).toThrow(/must be a string/);
  });
});

describe('query-time expansion', () => {
  it('turns a word with synonyms into a should-group, every other word still required', () => {
    const b = body({ q: 'cheap TV stand', fuzzy: 'false' }, ['tv => television']);
    expect(words(b.query.bool.must[0])).toEqual({
      bool: { must: [sqs('cheap'), { bool: { should: [sqs('TV'), sqs('television', 0.9)], minimum_should_match: 1 } }, sqs('stand')] },
    });
  });
  it('matches the longest phrase and quotes multi-word alternatives', () => {
    const b = body({ q: 'flat screen', fuzzy: 'false' }, ['flat screen => television set', 'screen, monitor']);
    expect(words(b.query.bool.must[0])).toEqual({ bool: { should: [sqs('flat screen'), sqs('"television set"', 0.9)], minimum_should_match: 1 } });
  });
  it('keeps the fuzzy alternative on the words typed, and highlights the synonyms', () => {
    const b = body({ q: 'notebook' }, ['laptop, notebook']);
    const exact = words(b.query.bool.must[0]);
    expect(exact.bool.should).toEqual([sqs('notebook'), sqs('laptop', 0.9)]);
    const typo = JSON.stringify(b.query.bool.must[0].bool.must[0].dis_max.queries.filter((c: any) => JSON.stringify(c).includes('fuzziness')));
    expect(typo).toContain('"query":"notebook"');
    expect(typo).not.toContain('laptop');
    expect(b.highlight.highlight_query).toEqual(exact);
  });
  it('leaves queries with operators and queries without a rule as they were', () => {
    expect(body({ q: 'tv -stand' }, ['tv => television']).query.bool.must[0]).toEqual(sqs('tv -stand'));
    expect(words(body({ q: 'radio', fuzzy: 'false' }, ['tv => television']).query.bool.must[0])).toEqual(sqs('radio'));
    expect(words(body({ q: 'television', fuzzy: 'false' }, ['tv => television']).query.bool.must[0])).toEqual(sqs('television'));
  });
});

describe('synonym routes', () => {
  it('stores rules with PUT, returns them with GET, and passes them to every search', async () => {
    const { http, backend } = testApp(new FakeBackend());
    const put = await http.put('/v1/indexes/books/synonyms').send({ rules: ['tv => television', ' laptop, notebook '] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ index: 'books', rules: ['tv => television', 'laptop, notebook'] });
    expect((await http.get('/v1/indexes/books/synonyms')).body.rules).toEqual(['tv => television', 'laptop, notebook']);
    await http.get('/v1/indexes/books/search').query({ q: 'tv' });
    expect(backend.searches[0]?.synonyms?.alternatives.get('tv')).toEqual(['television']);
  });
  it('refuses a bad body with a 400 naming the rule', async () => {
    const { http } = testApp(new FakeBackend());
    expect((await http.put('/v1/indexes/books/synonyms').send({ rules: ['tv'] })).body.error.code).toBe('SYNONYMS_INVALID');
    expect((await http.put('/v1/indexes/books/synonyms').send({ rule: [] })).body.error.code).toBe('PARAM_UNKNOWN');
    expect((await http.put('/v1/indexes/nope/synonyms').send({ rules: [] })).status).toBe(404);
  });
});

describe('synonym cache', () => {
  it('re-reads the store after refreshMs, serving the old rules meanwhile', async () => {
    const store = new MemorySynonymStore();
    let now = 0;
    const cache = new SynonymCache(store, { refreshMs: 1000, now: () => now });
    expect((await cache.get('books')).rules).toEqual([]);
    await store.write('books', ['a, b']); // another API instance wrote
    now = 999;
    expect((await cache.get('books')).rules).toEqual([]);
    now = 1000;
    expect((await cache.get('books')).rules).toEqual([]); // starts the re-read
    await new Promise((r) => setImmediate(r));
    expect((await cache.get('books')).rules).toEqual(['a, b']);
  });
});

describe('synonym routes with API keys', () => {
  it('need the admin scope', async () => {
    const records = new Map<string, any>();
    const add = (scopes: string[]) => {
      const { id, key, hash } = generateApiKey();
      records.set(id, { id, hash, tenant: 'acme', scopes, name: '', createdAt: new Date(0).toISOString() });
      return key;
    };
    const authenticator = new Authenticator({ find: async (id: string) => records.get(id) }, { cacheMs: 0 });
    const http = request(createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'x'.repeat(32), auth: { mode: 'keys', authenticator } }).callback());
    const search = add(['search']);
    const admin = add(['admin']);
    const denied = await http.put('/v1/indexes/books/synonyms').set('X-API-Key', search).send({ rules: ['a, b'] });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'SCOPE_MISSING']);
    expect((await http.get('/v1/indexes/books/synonyms').set('X-API-Key', search)).status).toBe(403);
    expect((await http.put('/v1/indexes/books/synonyms')).status).toBe(401);
    expect((await http.put('/v1/indexes/books/synonyms').set('X-API-Key', admin).send({ rules: ['a, b'] })).status).toBe(200);
  });
});
