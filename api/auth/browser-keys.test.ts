import request from 'supertest';
import { parsePipelineConfig } from '../../config/pipeline';
import { generateApiKey } from '../../core/api-keys/api-key';
import { mintBrowserKey } from '../../core/api-keys/browser-key';
import type { ApiKeyRecord, ApiKeyStore } from '../../core/api-keys/key-store';
import type { Scope } from '../../core/api-keys/scopes';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { ResultCache } from '../cache/result-cache';
import { createApiMetrics } from '../metrics';
import { planFacets } from '../search/facet-refinement';
import type { FilterClause } from '../search/filter';
import { FakeBackend } from '../testing/fake-backend';
import { Authenticator } from './authenticator';
import { BrowserKeys } from './browser-keys';

/** Browser keys through the app: minting, what a key may reach, and how its filter is imposed. */
const pipeline = parsePipelineConfig(
  JSON.stringify({
    version: 1,
    indexes: {
      games: {
        table: 'games',
        tenantField: 'tenant',
        fields: { title: { type: 'text', searchable: true }, tenant: { type: 'keyword', filterable: true }, system: { type: 'keyword', filterable: true, facetable: true }, year: { type: 'integer', filterable: true, facetable: true } },
      },
      notes: { table: 'notes', fields: { title: { type: 'text', searchable: true } } },
    },
  }),
);
const SECRET = 'b'.repeat(40);

class MemoryStore implements ApiKeyStore {
  records = new Map<string, ApiKeyRecord>();
  reads = 0;
  add(tenant: string, scopes: Scope[]): { id: string; key: string } {
    const { id, key, hash } = generateApiKey();
    this.records.set(id, { id, hash, tenant, scopes, name: '', createdAt: new Date(0).toISOString() });
    return { id, key };
  }
  async find(id: string) {
    this.reads++;
    return this.records.get(id);
  }
}

function setup(opts: { now?: () => number; cacheMs?: number; secret?: string | null } = {}) {
  const store = new MemoryStore();
  const backend = new FakeBackend();
  const now = opts.now ?? Date.now;
  const browserKeys = opts.secret === null ? undefined : new BrowserKeys({ secret: opts.secret ?? SECRET, maxTtlS: 3600, now });
  const authenticator = new Authenticator(store, { cacheMs: opts.cacheMs ?? 0, now }, browserKeys);
  const cache = new ResultCache({ maxEntries: 100, maxBytes: 1e6, ttlMs: 60_000 });
  const app = createApp({ pipeline, search: backend, metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'x'.repeat(32), auth: { mode: 'keys', authenticator }, cache });
  const http = request(app.callback());
  const parent = store.add('acme', ['search', 'analytics']);
  const mint = (body: Record<string, unknown>, key = parent.key) => http.post('/v1/browser-keys').set('Authorization', `Bearer ${key}`).send(body);
  return { store, backend, http, parent, mint };
}

describe('browser keys', () => {
  it('mints a key with the parent\'s tenant, the search scope only, the indexes and filter asked for, and a bounded lifetime', async () => {
    const { mint } = setup();
    const res = await mint({ indexes: 'games', filter: 'system:nes', expiresInS: 600 });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ tenant: 'acme', indexes: ['games'], filter: 'system:nes', scopes: ['search'] });
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(res.body.key).toMatch(/^spb_/);
    expect((await mint({ indexes: 'games', expiresInS: 3601 })).body.error.code).toBe('PARAM_INVALID');
    expect((await mint({ indexes: 'nope' })).body.error.code).toBe('INDEX_NOT_FOUND');
    expect((await mint({})).body.error.code).toBe('PARAM_MISSING');
    // The filter must make sense on every index named: notes has no `system` field.
    expect((await mint({ indexes: 'games,notes', filter: 'system:nes' })).body.error.code).toBe('FILTER_FIELD_NOT_ALLOWED');
  });

  it('ANDs the key\'s filter (and tenant) into every search and suggestion, before the caller\'s own filter', async () => {
    const { mint, http, backend } = setup();
    const key = (await mint({ indexes: 'games', filter: 'system:nes' })).body.key as string;
    const res = await http.get('/v1/indexes/games/search').query({ q: 'zelda', filter: 'system:snes year:1990..' }).set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(200);
    const filters = backend.searches.at(-1)!.filters;
    expect(filters.map((c) => [c.field, c.kind === 'terms' ? c.values : 'range', c.mandatory ?? false])).toEqual([
      ['tenant', ['acme'], false],
      ['system', ['nes'], true],
      ['system', ['snes'], false],
      ['year', 'range', false],
    ]);
    expect((await http.get('/v1/indexes/games/suggest').query({ q: 'ze' }).set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });

  it('keeps the key\'s filter in the main query when the caller facets on its field, so a refinement list cannot widen it', () => {
    const games = pipeline.indexes[0]!;
    const imposed: FilterClause = { kind: 'terms', field: 'system', esField: 'system', type: 'keyword', negate: false, values: ['nes'], mandatory: true };
    const own: FilterClause = { kind: 'terms', field: 'system', esField: 'system', type: 'keyword', negate: false, values: ['snes'] };
    const plan = planFacets(games, { filters: [imposed, own], facets: [{ field: 'system', esField: 'system' }] });
    expect(plan.query).toEqual([imposed]);
    expect(plan.post).toEqual([own]);
  });

  it('refuses other indexes (before the cache), analytics, documents by id under a filter, and minting from a browser key', async () => {
    const { mint, http, parent } = setup();
    const key = (await mint({ indexes: 'games', filter: 'system:nes' })).body.key as string;
    const as = (r: request.Test) => r.set('Authorization', `Bearer ${key}`);
    // Warm the cache with the parent's answer on notes: the browser key still gets a 403.
    expect((await http.get('/v1/indexes/notes/search').set('Authorization', `Bearer ${parent.key}`)).status).toBe(200);
    const other = await as(http.get('/v1/indexes/notes/search'));
    expect([other.status, other.body.error.code]).toEqual([403, 'INDEX_NOT_ALLOWED']);
    expect((await as(http.get('/v1/indexes/games/analytics'))).body.error.code).toBe('SCOPE_MISSING');
    expect((await as(http.get('/v1/indexes/games/documents/1'))).body.error.code).toBe('DOCUMENT_LOOKUP_NOT_ALLOWED');
    expect((await as(http.post('/v1/browser-keys').send({ indexes: 'games' }))).body.error.code).toBe('BROWSER_KEY_CANNOT_MINT');
    expect((await as(http.get('/v1/indexes/games/synonyms'))).status).toBe(403);
    // Without a filter, a lookup by id is allowed (the tenant still applies).
    const plain = (await mint({ indexes: 'games' })).body.key as string;
    expect((await http.get('/v1/indexes/games/documents/1').set('Authorization', `Bearer ${plain}`)).status).toBe(404);
  });

  it('never serves a browser key an answer cached for its parent or for another filter', async () => {
    const { mint, http, backend, parent } = setup();
    const nes = (await mint({ indexes: 'games', filter: 'system:nes' })).body.key as string;
    const snes = (await mint({ indexes: 'games', filter: 'system:snes' })).body.key as string;
    for (const key of [parent.key, parent.key, nes, nes, snes]) {
      const res = await http.get('/v1/indexes/games/search').query({ q: 'x' }).set('Authorization', `Bearer ${key}`);
      expect(res.status).toBe(200);
    }
    // parent (miss, hit), nes (miss, hit), snes (miss): three computations.
    expect(backend.searches.map((s) => s.filters.filter((c) => c.mandatory).map((c) => (c.kind === 'terms' ? c.values.join() : '')).join())).toEqual(['', 'nes', 'snes']);
  });

  it('stops working when it expires, when its parent is revoked, and when signed with another secret', async () => {
    let now = Date.now();
    const { mint, http, store, parent } = setup({ now: () => now });
    const key = (await mint({ indexes: 'games', expiresInS: 60 })).body.key as string;
    const search = () => http.get('/v1/indexes/games/search').set('Authorization', `Bearer ${key}`);
    expect((await search()).status).toBe(200);
    now += 61_000;
    const expired = await search();
    expect([expired.status, expired.body.error.code]).toEqual([401, 'API_KEY_EXPIRED']);
    now -= 61_000;
    store.records.get(parent.id)!.revokedAt = new Date().toISOString();
    const revoked = await search();
    expect([revoked.status, revoked.body.error.code]).toEqual([401, 'API_KEY_REVOKED']);
    const forged = mintBrowserKey('f'.repeat(40), { parent: parent.id, tenant: 'acme', indexes: ['games'], expiresAt: Math.floor(now / 1000) + 60 });
    expect((await http.get('/v1/indexes/games/search').set('Authorization', `Bearer ${forged}`)).body.error.code).toBe('API_KEY_INVALID');
  });

  it('checks the parent through the key cache: one store read per cache period, not one per request', async () => {
    const { mint, http, store } = setup({ cacheMs: 60_000 });
    const key = (await mint({ indexes: 'games' })).body.key as string;
    const before = store.reads;
    for (let i = 0; i < 5; i++) expect((await http.get('/v1/indexes/games/search').query({ q: `q${i}` }).set('Authorization', `Bearer ${key}`)).status).toBe(200);
    expect(store.reads - before).toBe(0);
  });

  it('refuses a key whose claimed tenant is not its parent\'s, and every browser key when no secret is configured', async () => {
    const { http, parent } = setup();
    const lying = mintBrowserKey(SECRET, { parent: parent.id, tenant: 'globex', indexes: ['games'], expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expect((await http.get('/v1/indexes/games/search').set('Authorization', `Bearer ${lying}`)).body.error.code).toBe('API_KEY_INVALID');
    const off = setup({ secret: null });
    const key = mintBrowserKey(SECRET, { parent: off.parent.id, tenant: 'acme', indexes: ['games'], expiresAt: Math.floor(Date.now() / 1000) + 60 });
    const res = await off.http.get('/v1/indexes/games/search').set('Authorization', `Bearer ${key}`);
    expect([res.status, res.body.error.code]).toEqual([401, 'API_KEY_INVALID']);
    expect(res.body.error.message).toMatch(/API_BROWSER_KEY_SECRET/);
    expect((await off.mint({ indexes: 'games' })).body.error.code).toBe('BROWSER_KEYS_DISABLED');
  });
});
