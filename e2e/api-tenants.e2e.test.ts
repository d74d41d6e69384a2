import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { parsePipelineConfig, type IndexSpec } from '../config/pipeline';
import { silentLogger } from '../core/logger';
import { createApp } from '../api/app';
import { Authenticator } from '../api/auth/authenticator';
import { RedisApiKeyStore } from '../core/api-keys/key-store';
import { ResultCache } from '../api/cache/result-cache';
import { RedisStore } from '../api/cache/shared-store';
import type { IndexPositions, PositionsSource } from '../api/freshness/positions-source';
import { WatermarkCache } from '../api/freshness/watermark-cache';
import { createApiMetrics } from '../api/metrics';
import { EsSearchBackend } from '../api/search/es-search-backend';
import { concreteIndexName, ensureIndex } from '../indexer/mappings';
import { softwareFixtures } from './support/api-index';
import { env, es, uniqueName } from './support/services';

jest.setTimeout(600_000);

/**
 * docs/reliability.md #14: for random pairs of tenants (A, B) and random requests on every route
 * (search with q, filters, facets and sort; cursor pages; documents by id; suggest; analytics
 * grouped, composite and CSV), no answer to A holds B's data, also through the result cache
 * (the same request as A, then as B, on one API instance and on a second one sharing Redis).
 *
 * One real index holds the documents of five tenants (the demo mapping plus a `tenant` field
 * named as the index's tenantField). Every title ends with its tenant's name and every id starts
 * with it, so any leaked document, facet value, group key or suggestion names another tenant.
 * Where the answer is computable from the fixtures (no q), counts must equal A's exactly.
 * The seed is printed on failure; TENANT_TEST_SEED replays a run.
 */
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'] as const;
type Tenant = (typeof TENANTS)[number];
const SEED = Number(process.env.TENANT_TEST_SEED ?? 20261123);
const PAIRS = 25;

/** mulberry32: small, seeded, good enough to pick test cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T;
  const some = <T>(xs: readonly T[], max = xs.length): T[] => xs.filter(() => next() < 0.5).slice(0, max);
  return { next, int, pick, some };
}
type Rng = ReturnType<typeof rng>;

type Doc = Record<string, unknown> & { id: string; tenant: Tenant; system: string; year: number; supported: string; title: string };

/** Each tenant gets a random subset of the software list, titles and ids marked with its name. */
function tenantDocs(r: Rng): Doc[] {
  const base = softwareFixtures();
  return TENANTS.flatMap((tenant) =>
    base.filter(() => r.next() < 0.7).map((d) => ({ ...d, id: `${tenant}-${d.id}`, tenant, title: `${d.title as string} ${tenant}` }) as Doc),
  );
}

/** Filter clauses this test generates, rendered to the API syntax and evaluated over fixtures. */
type Clause = { kind: 'system'; values: string[] } | { kind: 'year'; from: number; to: number } | { kind: 'notSupported'; value: string } | { kind: 'tenant'; value: Tenant };
const render = (c: Clause): string =>
  c.kind === 'system' ? `system:${c.values.join(',')}` : c.kind === 'year' ? `year:${c.from}..${c.to}` : c.kind === 'notSupported' ? `-supported:${c.value}` : `tenant:${c.value}`;
const holds = (c: Clause, d: Doc): boolean =>
  c.kind === 'system' ? c.values.includes(d.system) : c.kind === 'year' ? d.year >= c.from && d.year <= c.to : c.kind === 'notSupported' ? d.supported !== c.value : d.tenant === c.value;

const SYSTEMS = ['nes', 'snes', 'gameboy', 'megadriv', 'psx', 'sms'];
function randomClauses(r: Rng, other: Tenant): Clause[] {
  const clauses: Clause[] = [];
  if (r.next() < 0.4) clauses.push({ kind: 'system', values: r.some(SYSTEMS, 3).concat(r.pick(SYSTEMS)) });
  if (r.next() < 0.3) {
    const from = r.int(1984, 1994);
    clauses.push({ kind: 'year', from, to: from + r.int(0, 6) });
  }
  if (r.next() < 0.2) clauses.push({ kind: 'notSupported', value: r.pick(['no', 'partial']) });
  // A caller naming another tenant in its own filter still sees only its own documents (none).
  if (r.next() < 0.15) clauses.push({ kind: 'tenant', value: other });
  return clauses;
}

/** Every part of an answer that carries data, as text: any other tenant's name in it is a leak. */
function dataText(body: Record<string, unknown>): string {
  const { q: _q, cursor: _c, after: _a, index: _i, ...data } = body;
  return JSON.stringify(data);
}

function expectOnly(tenant: Tenant, text: string, what: string): void {
  for (const other of TENANTS) if (other !== tenant && text.includes(other)) throw new Error(`seed ${SEED}: ${what} for ${tenant} leaks ${other}: ${text.slice(0, 600)}`);
}

class FixedPositions implements PositionsSource {
  topicOf(index: IndexSpec): string {
    return `tenants.${index.name}`;
  }
  async read(index: IndexSpec): Promise<IndexPositions> {
    return { topic: this.topicOf(index), partitions: 1, positions: new Map([[0, { lsn: 4242n, updatedAt: new Date().toISOString(), commitTs: new Date().toISOString() }]]) };
  }
}

describe('tenant isolation over random tenant pairs, every route and the cache', () => {
  const elastic = es();
  const redis = new Redis(env('REDIS_URL'));
  const prefix = `${uniqueName('tenants')}:`;
  const name = uniqueName('api_tenants');
  const r = rng(SEED);
  const docs = tenantDocs(r);
  const keys = new Map<Tenant, string>();
  let spec: IndexSpec;
  const apps: Array<{ http: ReturnType<typeof request>; watermarks: WatermarkCache }> = [];
  const stats = { requests: 0, cacheHits: 0, cursorPages: 0, crossCursorRefusals: 0, foreignDocs404: 0 };

  beforeAll(async () => {
    const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'config', 'pipelines', 'demo.json'), 'utf8')) as { indexes: { software: { table: string; fields: Record<string, unknown> } } };
    const software = demo.indexes.software;
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [name]: { ...software, tenantField: 'tenant', fields: { ...software.fields, tenant: { type: 'keyword', filterable: true, facetable: true } } } } }));
    spec = pipeline.indexes[0] as IndexSpec;
    await ensureIndex(elastic, spec);
    const res = await elastic.bulk({ refresh: true, operations: docs.flatMap(({ id, ...doc }) => [{ index: { _index: name, _id: id } }, doc]) });
    if (res.errors) throw new Error(`fixture bulk failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
    await redis.ping();
    const store = new RedisApiKeyStore(redis, prefix);
    for (const t of TENANTS) keys.set(t, (await store.create({ tenant: t, scopes: ['search', 'analytics'] })).key);
    // Two API instances sharing the key store and the Redis level of the result cache.
    for (let i = 0; i < 2; i++) {
      const metrics = createApiMetrics();
      const watermarks = new WatermarkCache(new FixedPositions(), { refreshMs: 60_000, log: silentLogger });
      const cache = new ResultCache({ maxEntries: 10_000, maxBytes: 64e6, ttlMs: 600_000, events: metrics.cache, shared: new RedisStore(redis, { prefix: `${prefix}cache:`, log: silentLogger, onError: metrics.cache.redisError }) });
      const app = createApp({
        pipeline,
        search: new EsSearchBackend(elastic, { timeoutMs: 10_000, cursorKeepAliveS: 60 }),
        metrics,
        log: silentLogger,
        cursorSecret: 'tenant-test-secret-0123456789',
        auth: { mode: 'keys', authenticator: new Authenticator(store, { cacheMs: 60_000 }) },
        cache,
        watermarks,
      });
      apps.push({ http: request(app.callback()), watermarks });
    }
  });

  afterAll(async () => {
    for (const a of apps) a.watermarks.close();
    await elastic.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] }).catch(() => undefined);
    const left = await redis.keys(`${prefix}*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
    await elastic.close();
    process.stderr.write(`tenant isolation (seed ${SEED}): ${JSON.stringify(stats)}\n`);
  });

  const get = (app: number, tenant: Tenant, route: string, query: Record<string, string | number | boolean>) => {
    stats.requests++;
    return apps[app]!.http.get(`/v1/indexes/${name}/${route}`).query(query).set('Authorization', `Bearer ${keys.get(tenant)}`);
  };
  const mine = (t: Tenant, clauses: Clause[]) => docs.filter((d) => d.tenant === t && clauses.every((c) => holds(c, d)));

  function checkSearch(t: Tenant, body: any, clauses: Clause[], q: string, what: string): void {
    expectOnly(t, dataText(body), what);
    for (const h of body.hits) {
      expect(h.document.tenant).toBe(t);
      expect(h.id.startsWith(`${t}-`)).toBe(true);
    }
    if (body.facets?.tenant) expect(body.facets.tenant.map((b: { value: string }) => b.value)).toEqual(body.total ? [t] : []);
    if (q === '') expect(body.total).toBe(mine(t, clauses).length);
  }

  function checkAnalytics(t: Tenant, body: any, clauses: Clause[], groupBy: string, what: string): void {
    expectOnly(t, dataText(body), what);
    const expected = mine(t, clauses);
    expect(body.total).toBe(expected.length);
    expect(body.metrics.count).toBe(expected.length);
    if (groupBy === 'system' || groupBy === 'tenant' || groupBy === 'supported') {
      const want = new Map<string, number>();
      for (const d of expected) want.set(String(d[groupBy]), (want.get(String(d[groupBy])) ?? 0) + 1);
      const got = new Map<string, number>((body.groups as Array<{ key: Record<string, string>; count: number }>).map((g) => [String(g.key[groupBy]), g.count]));
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
    }
  }

  it('never shows tenant A any of tenant B\'s data', async () => {
    const QS = ['', '', 'zelda', 'super', 'mario', 'street fighter', 'meg*', 'zelad', 'sonic | metroid', 'the -legend', ...TENANTS];
    const SORTS = ['', '-year', 'title', '-rom_bytes,title', 'relevance,-year'];
    for (let pair = 0; pair < PAIRS; pair++) {
      const a = r.pick(TENANTS);
      const b = r.pick(TENANTS.filter((t) => t !== a));
      const ctx = `seed ${SEED} pair ${pair} (${a}, ${b})`;

      // Search, as A then as B, on both instances: a cache entry of one tenant never serves the other.
      const clauses = randomClauses(r, b);
      const q = r.pick(QS);
      const query = { q, filter: clauses.map(render).join(' '), facets: r.some(['system', 'publisher', 'year', 'supported', 'tenant']).join(','), sort: r.pick(SORTS), size: r.int(1, 30), page: r.int(1, 2) };
      for (const [app, t] of [[0, a], [0, a], [0, b], [1, b], [1, a]] as const) {
        const res = await get(app, t, 'search', query);
        expect([res.status, ctx]).toEqual([200, ctx]);
        if (res.headers['x-cache'] === 'hit') stats.cacheHits++;
        checkSearch(t, res.body, clauses, q, `${ctx} search ${JSON.stringify(query)} on instance ${app}`);
      }

      // Cursor pages through everything A may see; A's cursor is refused for B.
      const cq = r.pick(['', '', 'super', 'the']);
      const cursorQuery = { q: cq, sort: r.pick(['title', '-year', '']), size: r.int(2, 7) };
      let page = await get(0, a, 'search', { ...cursorQuery, cursor: 'start' });
      const seen: string[] = [];
      let firstCursor: string | null = page.body.cursor;
      for (let n = 0; n < 100; n++) {
        expect([page.status, ctx]).toEqual([200, ctx]);
        stats.cursorPages++;
        checkSearch(a, page.body, [], cq, `${ctx} cursor page ${n}`);
        seen.push(...page.body.hits.map((h: { id: string }) => h.id));
        if (!page.body.cursor) break;
        firstCursor ??= page.body.cursor;
        page = await get(n % 2, a, 'search', { ...cursorQuery, cursor: page.body.cursor });
      }
      expect(new Set(seen).size).toBe(seen.length);
      if (cq === '') expect(seen.length).toBe(mine(a, []).length);
      if (firstCursor) {
        const stolen = await get(r.int(0, 1), b, 'search', { ...cursorQuery, cursor: firstCursor });
        expect([stolen.status, stolen.body.error?.code?.startsWith('CURSOR_'), ctx]).toEqual([400, true, ctx]);
        stats.crossCursorRefusals++;
      }

      // Documents: A's own are found, B's look missing.
      for (const d of [r.pick(docs.filter((x) => x.tenant === a)), r.pick(docs.filter((x) => x.tenant === b))]) {
        const res = await get(r.int(0, 1), a, `documents/${encodeURIComponent(d.id)}`, {});
        if (d.tenant === a) {
          expect([res.status, res.body.document?.tenant, ctx]).toEqual([200, a, ctx]);
        } else {
          // Exactly the answer for an id that exists nowhere (it echoes only the id A sent).
          const missing = await get(0, a, `documents/${encodeURIComponent(`${d.id}-nowhere`)}`, {});
          expect([res.status, res.body, ctx]).toEqual([404, { error: { ...missing.body.error, message: missing.body.error.message.replace(`${d.id}-nowhere`, d.id) } }, ctx]);
          stats.foreignDocs404++;
        }
      }

      // Suggest: every suggestion is one of A's titles.
      const prefix = r.pick(['zel', 'sup', 'mar', 'str', 'son', 'meg', 'the', b.slice(0, 3), a.slice(0, 4)]);
      for (const [app, t] of [[0, a], [1, b]] as const) {
        const res = await get(app, t, 'suggest', { q: prefix, size: 20 });
        expect([res.status, ctx]).toEqual([200, ctx]);
        for (const s of res.body.suggestions as string[]) expect([s.endsWith(` ${t}`), s, ctx]).toEqual([true, s, ctx]);
      }

      // Analytics: exact counts of A's documents only, grouped or not, JSON, composite pages and CSV.
      const aClauses = randomClauses(r, b);
      const groupBy = r.pick(['', 'system', 'tenant', 'supported', 'year:5']);
      const aQuery = { metrics: 'count,avg(year),min(year),max(rom_bytes),cardinality(system)', ...(groupBy ? { groupBy, groupSize: 100 } : {}), filter: aClauses.map(render).join(' ') };
      for (const [app, t] of [[0, a], [0, a], [0, b], [1, b], [1, a]] as const) {
        const res = await get(app, t, 'analytics', aQuery);
        expect([res.status, ctx]).toEqual([200, ctx]);
        if (res.headers['x-cache'] === 'hit') stats.cacheHits++;
        checkAnalytics(t, res.body, aClauses, groupBy, `${ctx} analytics ${JSON.stringify(aQuery)} on instance ${app}`);
      }
      const csv = await get(1, a, 'analytics', { groupBy: 'tenant,system', format: 'csv', groupSize: 3 });
      expect([csv.status, ctx]).toEqual([200, ctx]);
      expectOnly(a, csv.text, `${ctx} analytics csv`);
      let after: string | undefined;
      let groups = 0;
      for (let n = 0; n < 50; n++) {
        const res = await get(n % 2, a, 'analytics', { groupBy: 'tenant,system', groupSize: 2, ...(after ? { after } : {}) });
        expect([res.status, ctx]).toEqual([200, ctx]);
        expectOnly(a, dataText(res.body), `${ctx} composite page ${n}`);
        groups += res.body.groups.length;
        if (!res.body.after) break;
        after = res.body.after;
      }
      expect(groups).toBe(new Set(mine(a, []).map((d) => d.system)).size);
    }
    // The cache was really in the path: repeated requests were answered from it.
    expect(stats.cacheHits).toBeGreaterThanOrEqual(PAIRS);
    expect(stats.crossCursorRefusals).toBeGreaterThan(0);
  });
});
