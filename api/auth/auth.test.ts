import request from 'supertest';
import { parsePipelineConfig } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import type { RateLimiter } from '../rate-limit/rate-limiter';
import { FakeBackend } from '../testing/fake-backend';
import { generateApiKey } from '../../core/api-keys/api-key';
import { Authenticator } from './authenticator';
import type { ApiKeyRecord, ApiKeyStore } from '../../core/api-keys/key-store';
import type { Scope } from '../../core/api-keys/scopes';

/** Auth, scopes, tenant scoping and rate limiting through the app, with in-memory stand-ins. */
const pipeline = parsePipelineConfig(
  JSON.stringify({
    version: 1,
    indexes: {
      notes: { table: 'notes', tenantField: 'tenant', fields: { title: { type: 'text', searchable: true }, tenant: { type: 'keyword', filterable: true }, year: { type: 'integer', filterable: true } } },
      shared: { table: 'shared', fields: { title: { type: 'text', searchable: true }, year: { type: 'integer', filterable: true } } },
    },
  }),
);

class MemoryStore implements ApiKeyStore {
  records = new Map<string, ApiKeyRecord>();
  failing = false;
  reads = 0;
  add(tenant: string, scopes: Scope[]): string {
    const { id, key, hash } = generateApiKey();
    this.records.set(id, { id, hash, tenant, scopes, name: '', createdAt: new Date(0).toISOString() });
    return key;
  }
  async find(id: string) {
    this.reads++;
    if (this.failing) throw new Error('redis down');
    return this.records.get(id);
  }
}

function setup(opts: { cacheMs?: number; now?: () => number; limiter?: RateLimiter; metricsToken?: string } = {}) {
  const store = new MemoryStore();
  const backend = new FakeBackend();
  const metrics = createApiMetrics();
  const authenticator = new Authenticator(store, { cacheMs: opts.cacheMs ?? 0, ...(opts.now ? { now: opts.now } : {}) });
  const app = createApp({ pipeline, search: backend, metrics, log: silentLogger, cursorSecret: 'x'.repeat(32), auth: { mode: 'keys', authenticator }, ...(opts.limiter ? { rateLimiter: opts.limiter } : {}), ...(opts.metricsToken ? { metricsToken: opts.metricsToken } : {}) });
  return { store, backend, metrics, http: request(app.callback()) };
}

describe('API keys on the routes', () => {
  it('answers 401 with the error shape and WWW-Authenticate without a key, a malformed or an unknown key', async () => {
    const { http, store } = setup();
    const missing = await http.get('/v1/indexes/notes/search');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('API_KEY_MISSING');
    expect(missing.body.error.message).toMatch(/Authorization: Bearer <key>/);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', 'Bearer nope')).body.error.code).toBe('API_KEY_INVALID');
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', 'Basic dXNlcjpwYXNz')).body.error.code).toBe('AUTH_SCHEME_INVALID');
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${generateApiKey().key}`)).body.error.code).toBe('API_KEY_INVALID');
    // A known id with the wrong secret: the hash decides.
    const key = store.add('acme', ['search']);
    const forged = `${key.slice(0, -4)}AAAA` === key ? `${key.slice(0, -4)}BBBB` : `${key.slice(0, -4)}AAAA`;
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${forged}`)).status).toBe(401);
  });
  it('answers the bad tokens of docs/reliability.md with a 401, never a 5xx: alg none, encoded NUL, huge, non-ASCII, repeated headers', async () => {
    const { http, store } = setup();
    const key = store.add('acme', ['search']);
    const bad = [
      'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0ZW5hbnQiOiJhY21lIn0.', // a JWT with alg: none
      `${key}%00`,
      'spk_' + 'a'.repeat(16) + '_' + 'A'.repeat(43),
      'x'.repeat(8_000),
      `${key.slice(0, -1)}\u00ff`,
      '__proto__',
    ];
    for (const token of bad) {
      const res = await http.get('/v1/indexes/notes/search').set('X-API-Key', token);
      expect([token.slice(0, 20), res.status, res.body.error?.code]).toEqual([token.slice(0, 20), 401, expect.stringMatching(/^API_KEY_INVALID$/)]);
    }
    // Two Authorization headers arrive joined by a comma: not a Bearer token.
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}, Bearer ${key}`)).status).toBe(401);
  });
  it('accepts a key as Bearer or X-API-Key, and refuses two different ones', async () => {
    const { http, store } = setup();
    const key = store.add('acme', ['search']);
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    expect((await http.get('/v1/indexes/notes/search').set('X-API-Key', key)).status).toBe(200);
    const other = store.add('acme', ['search']);
    const both = await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`).set('X-API-Key', other);
    expect(both.status).toBe(401);
    expect(both.body.error.code).toBe('API_KEY_AMBIGUOUS');
  });
  it('leaves probes and the API description open', async () => {
    const { http } = setup();
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs']) expect((await http.get(path)).status).toBe(200);
  });
  it('closes /metrics (its series name tenants and key ids) unless a metrics token is configured', async () => {
    const { http, store } = setup();
    const key = store.add('acme', ['admin']);
    for (const req of [http.get('/metrics'), http.get('/metrics').set('Authorization', `Bearer ${key}`)]) {
      const res = await req;
      expect([res.status, res.body.error.code]).toEqual([401, 'METRICS_TOKEN_REQUIRED']);
      expect(res.text).not.toContain('api_rate_limited_total');
    }
  });
  it('serves /metrics to the metrics token only', async () => {
    const token = 'm'.repeat(32);
    const { http, store } = setup({ metricsToken: token });
    const key = store.add('acme', ['admin']);
    for (const auth of [undefined, `Bearer ${key}`, `Bearer ${token}x`, token]) {
      const req = http.get('/metrics');
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect([auth, res.status, res.body.error?.code]).toEqual([auth, 401, 'METRICS_TOKEN_INVALID']);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    const ok = await http.get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE api_rate_limited_total counter');
  });
  it('answers 403 naming the missing scope; admin has every scope', async () => {
    const { http, store } = setup();
    const search = store.add('acme', ['search']);
    const analytics = store.add('acme', ['analytics']);
    const ingest = store.add('acme', ['ingest']);
    const admin = store.add('acme', ['admin']);
    const res = await http.get('/v1/indexes/notes/analytics').set('Authorization', `Bearer ${search}`);
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'SCOPE_MISSING', message: expect.stringContaining('lacks the "analytics" scope') });
    for (const path of ['search', 'suggest?q=a', 'documents/1']) {
      expect((await http.get(`/v1/indexes/notes/${path}`).set('Authorization', `Bearer ${analytics}`)).status).toBe(403);
      expect((await http.get(`/v1/indexes/notes/${path}`).set('Authorization', `Bearer ${ingest}`)).status).toBe(403);
      expect((await http.get(`/v1/indexes/notes/${path}`).set('Authorization', `Bearer ${admin}`)).status).not.toBe(403);
    }
    expect((await http.post('/v1/indexes/notes/search').set('Authorization', `Bearer ${analytics}`).send({})).status).toBe(403);
    expect((await http.get('/v1/indexes/notes/analytics').set('Authorization', `Bearer ${analytics}`)).status).toBe(200);
    expect((await http.post('/v1/indexes/notes/analytics').set('Authorization', `Bearer ${search}`).send({})).status).toBe(403);
  });
  it('refuses a revoked key once its cached record expires, and checks the store at most once per cache period', async () => {
    let now = 1_000;
    const { http, store } = setup({ cacheMs: 5_000, now: () => now });
    const key = store.add('acme', ['search']);
    const get = () => http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect(store.reads).toBe(1);
    const id = [...store.records.keys()][0]!;
    store.records.set(id, { ...store.records.get(id)!, revokedAt: '2026-01-01T00:00:00.000Z' });
    now += 4_999;
    expect((await get()).status).toBe(200); // within API_KEY_CACHE_MS
    now += 2;
    const revoked = await get();
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('API_KEY_REVOKED');
  });
  it('fails closed with 503 when the key store cannot be read', async () => {
    const { http, store } = setup();
    const key = store.add('acme', ['search']);
    store.failing = true;
    const res = await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('AUTH_UNAVAILABLE');
  });
});

describe('tenant scoping', () => {
  it("adds the key's tenant as a term filter on an index with tenantField, and nothing on a shared one", async () => {
    const { http, store, backend } = setup();
    const key = store.add('acme', ['admin']);
    await http.get('/v1/indexes/notes/search?q=a&filter=year:2000').set('Authorization', `Bearer ${key}`).expect(200);
    expect(backend.searches[0]!.filters.map((f) => [f.esField, f.kind === 'terms' ? f.values : null, f.negate])).toEqual([['tenant', ['acme'], false], ['year', [2000], false]]);
    await http.get('/v1/indexes/shared/search?q=a').set('Authorization', `Bearer ${key}`).expect(200);
    expect(backend.searches[1]!.filters).toEqual([]);
    await http.get('/v1/indexes/notes/analytics?groupBy=year:1').set('Authorization', `Bearer ${key}`).expect(200);
    expect(backend.analyticsCalls[0]!.filters[0]).toMatchObject({ esField: 'tenant', values: ['acme'] });
  });
  it("answers another tenant's document as not found", async () => {
    const { http, store, backend } = setup();
    backend.documents = { a: { title: 'mine', tenant: 'acme' }, b: { title: 'theirs', tenant: 'globex' } };
    const key = store.add('acme', ['search']);
    expect((await http.get('/v1/indexes/notes/documents/a').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    const other = await http.get('/v1/indexes/notes/documents/b').set('Authorization', `Bearer ${key}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('DOCUMENT_NOT_FOUND');
    expect((await http.get('/v1/indexes/shared/documents/b').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });
  it("refuses a cursor opened by another tenant's key", async () => {
    const { http, store, backend } = setup();
    backend.searchResult = { ...backend.searchResult, next: { pitId: 'pit-1', searchAfter: [1] } };
    const acme = store.add('acme', ['search']);
    const globex = store.add('globex', ['search']);
    const first = await http.get('/v1/indexes/notes/search?q=a&size=1&cursor=start').set('Authorization', `Bearer ${acme}`);
    const cursor = first.body.cursor as string;
    expect((await http.get('/v1/indexes/notes/search').query({ q: 'a', size: 1, cursor }).set('Authorization', `Bearer ${acme}`)).status).toBe(200);
    const stolen = await http.get('/v1/indexes/notes/search').query({ q: 'a', size: 1, cursor }).set('Authorization', `Bearer ${globex}`);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.code).toMatch(/^CURSOR_/);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After and counts it by key and tenant; other keys are unaffected', async () => {
    const denied = new Set<string>();
    const limiter: RateLimiter = { take: async (bucket) => (denied.has(bucket) ? { allowed: false, remaining: 0, retryAfterMs: 1_500 } : { allowed: true, remaining: 9, retryAfterMs: 0 }) };
    const { http, store, metrics } = setup({ limiter });
    const key = store.add('acme', ['search']);
    const other = store.add('acme', ['search']);
    denied.add([...store.records.keys()][0]!);
    const res = await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body.error.code).toBe('RATE_LIMITED');
    const ok = await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${other}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['ratelimit-remaining']).toBe('9');
    expect(await metrics.registry.getSingleMetricAsString('api_rate_limited_total')).toMatch(/api_rate_limited_total\{key_id="[0-9a-f]{16}",tenant="acme"\} 1/);
  });
  it('lets requests through when the limiter cannot answer, and counts them', async () => {
    const { http, store, metrics } = setup({ limiter: { take: async () => undefined } });
    const key = store.add('acme', ['search']);
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    expect(await metrics.registry.getSingleMetricAsString('api_rate_limit_unavailable_total')).toMatch(/api_rate_limit_unavailable_total 1/);
  });
});
