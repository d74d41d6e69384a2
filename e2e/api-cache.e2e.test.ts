import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { topicFor } from '../core/change-event';
import { encodeConsistencyToken } from '../core/consistency-token';
import { silentLogger } from '../core/logger';
import { ensureStateIndex, publishPositions, STATE_INDEX, stateDocId } from '../core/watermark-store';
import { createApp } from '../api/app';
import { createCacheRedis } from '../api/cache/redis-client';
import { ResultCache } from '../api/cache/result-cache';
import { RedisStore, type SharedStore } from '../api/cache/shared-store';
import { EsPositionsSource } from '../api/freshness/positions-source';
import { WatermarkCache } from '../api/freshness/watermark-cache';
import { createApiMetrics } from '../api/metrics';
import { EsSearchBackend } from '../api/search/es-search-backend';
import type { SearchBackend } from '../api/search/search-backend';
import { createApiIndex, softwareFixtures, type ApiIndex } from './support/api-index';
import { freePort } from './support/processes';
import { env, es, eventually, uniqueName } from './support/services';

/**
 * The result cache, freshness watermark and read-your-writes over the real services: a uniquely
 * named index in Elasticsearch, its watermark published to search_pipeline_state the way the
 * indexer does it, Redis as the shared level. The app listens on a loopback port (fetch), so
 * concurrent requests really are concurrent.
 */
describe('API result cache and freshness against Elasticsearch and Redis', () => {
  const elastic = es();
  const prefix = uniqueName('cachetest');
  const redisPrefix = `${uniqueName('cache-e2e')}:`;
  const redisClients: Redis[] = [];
  const servers: Array<{ close: () => Promise<void> }> = [];
  let ix: ApiIndex;
  let topic: string;
  let lsn = 1_000n;

  /** What the indexer does after a write: refresh, then publish the partition's new position. */
  async function writeThroughIndexerPath(doc: Record<string, unknown> & { id: string }): Promise<bigint> {
    const { id, ...body } = doc;
    await elastic.index({ index: ix.spec.name, id, document: body, refresh: true });
    lsn += 10n;
    await publishPositions(elastic, [{ index: ix.spec.name, topic, partition: 0, partitions: 1, lsn, commitTs: new Date().toISOString() }]);
    return lsn;
  }

  /** Counts searches reaching Elasticsearch at the SearchBackend port; `before` may hold each one. */
  function counting(backend: SearchBackend, before?: () => Promise<void>): SearchBackend & { searches: number } {
    const wrapped = {
      searches: 0,
      search: async (...a: Parameters<SearchBackend['search']>) => {
        wrapped.searches += 1;
        await before?.();
        return backend.search(...a);
      },
      getDocument: backend.getDocument.bind(backend),
      suggest: backend.suggest.bind(backend),
      fieldRange: backend.fieldRange.bind(backend),
      analytics: backend.analytics.bind(backend),
      ready: backend.ready.bind(backend),
    };
    return wrapped;
  }

  /** Reports each time this instance found the computation of a key held by another instance. */
  function observingLocks(store: SharedStore, onHeldElsewhere: () => void): SharedStore {
    return {
      get: (k) => store.get(k),
      set: (k, v, t) => store.set(k, v, t),
      lock: (k, t) => store.lock(k, t),
      unlock: (k) => store.unlock(k),
      setAndUnlock: (k, v, t) => store.setAndUnlock(k, v, t),
      getOrLock: async (k, t) => {
        const r = await store.getOrLock(k, t);
        if (r.value === undefined && !r.locked) onHeldElsewhere();
        return r;
      },
    };
  }

  async function start(opts: { redisUrl?: string; consistencyWaitMs?: number; sharedLockWaitMs?: number; redisTimeoutMs?: number; beforeSearch?: () => Promise<void>; onLockHeldElsewhere?: () => void } = {}) {
    const metrics = createApiMetrics();
    const backend = counting(new EsSearchBackend(elastic, { timeoutMs: 5000, cursorKeepAliveS: 60, observe: metrics.observeElasticsearch }), opts.beforeSearch);
    const redis = createCacheRedis(opts.redisUrl ?? env('REDIS_URL'), silentLogger, opts.redisTimeoutMs ?? 1_000);
    redisClients.push(redis);
    // The cache fails open: a request sent before the client connected is computed uncached, as
    // if Redis were down. Tests of the shared level therefore start only once it is connected.
    if (!opts.redisUrl && redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
    const store = new RedisStore(redis, { prefix: redisPrefix, log: silentLogger, onError: metrics.cache.redisError });
    const shared = opts.onLockHeldElsewhere ? observingLocks(store, opts.onLockHeldElsewhere) : store;
    const cache = new ResultCache({ maxEntries: 1000, maxBytes: 1e7, ttlMs: 60_000, events: metrics.cache, shared, sharedLockWaitMs: opts.sharedLockWaitMs ?? 0 });
    const watermarks = new WatermarkCache(new EsPositionsSource(elastic, prefix), { refreshMs: 100, log: silentLogger, onRead: (i, f) => metrics.watermarkRead(i, f.asOfTime) });
    const app = createApp({ pipeline: ix.pipeline, search: backend, metrics, log: silentLogger, cache, watermarks, consistencyWaitMs: opts.consistencyWaitMs ?? 10_000 });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    servers.push({ close: async () => (watermarks.close(), server.closeAllConnections(), await new Promise<void>((r) => server.close(() => r()))) });
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${path}`, { headers });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
    };
    return { backend, metrics: () => get('/metrics').then((r) => r.text), get, redis };
  }

  beforeAll(async () => {
    ix = await createApiIndex(elastic, softwareFixtures());
    topic = topicFor(prefix, ix.spec.source);
    await ensureStateIndex(elastic);
    await publishPositions(elastic, [{ index: ix.spec.name, topic, partition: 0, partitions: 1, lsn, commitTs: new Date().toISOString() }]);
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    const redis = new Redis(env('REDIS_URL'));
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    for (const r of redisClients) r.disconnect();
    await elastic.delete({ index: STATE_INDEX, id: stateDocId(ix.spec.name, topic, 0) }, { ignore: [404] });
    await ix?.drop();
    await elastic.close();
  });

  it('serves a repeated search from the cache, and a change reaching the index invalidates it', async () => {
    const api = await start();
    const path = ix.path('search?q=vectorman&size=5');
    const first = await api.get(path);
    expect([first.status, first.headers.get('x-cache'), first.body.total, first.body.asOf.lsn]).toEqual([200, 'miss', 0, lsn.toString()]);
    const second = await api.get(path);
    expect([second.headers.get('x-cache'), second.body.cache, second.body.total]).toEqual(['hit', 'hit', 0]);
    expect(api.backend.searches).toBe(1);

    const written = await writeThroughIndexerPath({ id: 'vm1', title: 'Vectorman', name: 'vectorman', system: 'megadriv', publisher: 'Sega', supported: 'yes', year: 1995, release_date: '1995-10-24', rom_bytes: 1 });
    const fresh = await eventually(async () => {
      const r = await api.get(path);
      return r.body.asOf.lsn === written.toString() ? r : undefined;
    }, 'the new watermark to reach the API');
    expect([fresh.headers.get('x-cache'), fresh.body.total, fresh.body.hits[0].id]).toEqual(['miss', 1, 'vm1']);
    expect((await api.get(path)).headers.get('x-cache')).toBe('hit');
  });

  it('answers 50 concurrent identical cold requests with one Elasticsearch query', async () => {
    const api = await start();
    const path = ix.path('search?q=street+fighter&facets=system&size=7');
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.get(path)));
    expect(answers.every((a) => a.status === 200 && a.body.total === 2)).toBe(true);
    expect(api.backend.searches).toBe(1);
    expect(answers.filter((a) => a.headers.get('x-cache') === 'miss')).toHaveLength(1);
    const m = await api.metrics();
    expect(m).toMatch(/api_elasticsearch_seconds_count\{operation="search",outcome="ok"\} 1\n/);
    // Each of the other 49 either joined the query in flight or, arriving after it, hit the cache.
    const joins = Number(/api_cache_singleflight_joins_total\{route="search"\} (\d+)/.exec(m)?.[1] ?? 0);
    const memoryHits = Number(/api_cache_lookups_total\{route="search",level="memory",result="hit"\} (\d+)/.exec(m)?.[1] ?? 0);
    expect(joins + memoryHits).toBe(49);
  });

  it('answers identical cold requests spread over two API instances with one Elasticsearch query (Redis lock)', async () => {
    // The mechanism, not a race: the one search that took the lock is held until a request on the
    // other instance found the lock taken and is waiting for the answer; only then does it run.
    // Timing cannot decide the outcome: the waiters poll for up to 30 s, and a Redis reply slower
    // than the usual 1 s command timeout on a busy machine does not count as Redis being down.
    let heldElsewhere = 0;
    const untilSomeoneWaits = async () => void (await eventually(async () => (heldElsewhere > 0 ? true : undefined), 'a request of the other instance to wait on the Redis lock'));
    const opts = { sharedLockWaitMs: 30_000, redisTimeoutMs: 10_000, beforeSearch: untilSomeoneWaits, onLockHeldElsewhere: () => void (heldElsewhere += 1) };
    const a = await start(opts);
    const b = await start(opts);
    const path = ix.path('search?q=sonic&facets=publisher&size=3');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(path)));
    expect(answers.every((r) => r.status === 200 && r.body.total === 2)).toBe(true);
    expect(heldElsewhere).toBeGreaterThanOrEqual(1);
    expect(a.backend.searches + b.backend.searches).toBe(1);
    expect(answers.filter((r) => r.headers.get('x-cache') === 'miss')).toHaveLength(1);
    for (const api of [a, b]) expect(await api.metrics()).not.toMatch(/api_cache_redis_errors_total\{[^}]*\} [1-9]/);
  });

  it('answers If-None-Match with a 304 while nothing changed', async () => {
    const api = await start();
    const path = ix.path('analytics?metrics=count,avg(year)&groupBy=system');
    const first = await api.get(path);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const again = await api.get(path, { 'If-None-Match': etag });
    expect([again.status, again.text, again.headers.get('etag'), again.headers.get('x-cache')]).toEqual([304, '', etag, 'hit']);
  });

  it('shares entries between API instances through Redis', async () => {
    const a = await start();
    const b = await start();
    const path = ix.path('search?q=mega+man&sort=-year');
    expect((await a.get(path)).headers.get('x-cache')).toBe('miss');
    const fromB = await eventually(async () => {
      const r = await b.get(path);
      return r.headers.get('x-cache') === 'hit' ? r : undefined;
    }, 'the entry to reach Redis');
    expect(fromB.body.total).toBe(2);
    expect(b.backend.searches).toBeLessThanOrEqual(1);
    expect(await b.metrics()).toMatch(/api_cache_lookups_total\{route="search",level="redis",result="hit"\} 1/);
  });

  it('still answers 200 when Redis is unreachable, uncached but counted', async () => {
    const closed = await freePort();
    const api = await start({ redisUrl: `redis://127.0.0.1:${closed}` });
    const path = ix.path('search?q=zelda');
    const first = await api.get(path);
    expect([first.status, first.headers.get('x-cache'), first.body.total]).toEqual([200, 'miss', 3]);
    expect((await api.get(path)).headers.get('x-cache')).toBe('hit'); // the in-process level still works
    expect(Number(/api_cache_redis_errors_total\{operation="get"\} (\d+)/.exec(await api.metrics())?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('read-your-writes: waits until the watermark reaches minLsn, then includes the write', async () => {
    const api = await start();
    const target = lsn + 10n;
    const pending = api.get(ix.path(`search?q=ecco&minLsn=${target}`));
    await new Promise((r) => setTimeout(r, 300));
    await writeThroughIndexerPath({ id: 'ecco1', title: 'Ecco the Dolphin', name: 'ecco', system: 'megadriv', publisher: 'Sega', supported: 'yes', year: 1992, release_date: '1992-12-01', rom_bytes: 1 });
    const res = await pending;
    expect([res.status, res.body.stale, res.body.asOf.lsn, res.body.total]).toEqual([200, false, target.toString(), 1]);
  });

  it('read-your-writes with a consistency token, for a document lookup', async () => {
    const api = await start();
    const target = lsn + 10n;
    const token = encodeConsistencyToken([{ topic, partition: 0, lsn: target }]);
    const pending = api.get(ix.path(`documents/toe1?consistency=${token}`));
    await new Promise((r) => setTimeout(r, 300));
    await writeThroughIndexerPath({ id: 'toe1', title: 'ToeJam & Earl', name: 'toejam', system: 'megadriv', publisher: 'Sega', supported: 'yes', year: 1991, release_date: '1991-03-01', rom_bytes: 1 });
    const res = await pending;
    expect([res.status, res.body.stale, res.body.document?.title]).toEqual([200, false, 'ToeJam & Earl']);
  });

  it('answers stale: true with its asOf once the wait bound passes', async () => {
    const api = await start({ consistencyWaitMs: 300 });
    const res = await api.get(ix.path(`analytics?minLsn=${lsn + 1_000_000n}`));
    expect([res.status, res.body.stale, res.headers.get('x-stale'), res.body.asOf.lsn]).toEqual([200, true, 'true', lsn.toString()]);
    const bad = await api.get(ix.path('search?consistency=ct1.garbage'));
    expect([bad.status, bad.body.error.code]).toEqual([400, 'CONSISTENCY_TOKEN_INVALID']);
  });
});
