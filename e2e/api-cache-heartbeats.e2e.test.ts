import Redis from 'ioredis';
import request from 'supertest';
import { parsePipelineConfig } from '../config/pipeline';
import { silentLogger } from '../core/logger';
import { publishPositions, STATE_INDEX, stateDocId, topicDocId } from '../core/watermark-store';
import { createApp } from '../api/app';
import { createCacheRedis } from '../api/cache/redis-client';
import { ResultCache } from '../api/cache/result-cache';
import { RedisStore } from '../api/cache/shared-store';
import { EsPositionsSource } from '../api/freshness/positions-source';
import { WatermarkCache } from '../api/freshness/watermark-cache';
import { createApiMetrics } from '../api/metrics';
import { EsSearchBackend } from '../api/search/es-search-backend';
import type { SearchBackend } from '../api/search/search-backend';
import { change, createHarness, indexerFor, keyless, PIPELINE_FIELDS, TABLE, type Harness } from './support/indexer-harness';
import { env, eventually, uniqueName } from './support/services';

/**
 * Cache generations on a live pipeline: Kafka → the real indexer → Elasticsearch → the API with
 * its Redis cache level. Heartbeats move every partition's position (asOf keeps advancing) but
 * not the cache generation; a document write moves it, and the next search is computed again.
 */
describe('API cache across heartbeats and writes (real indexer, Elasticsearch, Redis)', () => {
  const PARTITIONS = 2;
  const redisPrefix = `${uniqueName('cache-hb')}:`;
  let h: Harness;
  let run: ReturnType<typeof indexerFor>;
  let redis: Redis;
  let watermarks: WatermarkCache;
  let backend: SearchBackend & { searches: number };
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    h = await createHarness(PARTITIONS);
    run = indexerFor(h);
    await run.indexer.start();
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [h.index]: { table: TABLE, fields: PIPELINE_FIELDS } } }));
    const metrics = createApiMetrics();
    const real = new EsSearchBackend(h.client, { timeoutMs: 5000, cursorKeepAliveS: 60, observe: metrics.observeElasticsearch });
    backend = Object.assign(Object.create(real) as SearchBackend, { searches: 0 });
    backend.search = (...a) => ((backend.searches += 1), real.search(...a));
    redis = createCacheRedis(env('REDIS_URL'), silentLogger, 1_000);
    const cache = new ResultCache({ maxEntries: 100, maxBytes: 1e6, ttlMs: 60_000, shared: new RedisStore(redis, { prefix: redisPrefix, log: silentLogger, onError: () => undefined }) });
    watermarks = new WatermarkCache(new EsPositionsSource(h.client, h.prefix), { refreshMs: 50, log: silentLogger });
    http = request(createApp({ pipeline, search: backend, metrics, log: silentLogger, cache, watermarks, consistencyWaitMs: 30_000 }).callback());
  });

  afterAll(async () => {
    watermarks?.close();
    await run?.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    for (const index of [h.index, `${h.index}_v2`]) {
      for (let p = 0; p < PARTITIONS; p++) await h.client.delete({ index: STATE_INDEX, id: stateDocId(index, h.topic, p) }, { ignore: [404] });
      await h.client.delete({ index: STATE_INDEX, id: topicDocId(index, h.topic) }, { ignore: [404] });
    }
    await h.close();
  });

  const search = async (query: string) => {
    const r = await http.get(`/v1/indexes/${h.index}/search?${query}`);
    expect(r.status).toBe(200);
    return { cache: r.headers['x-cache'] as string, asOf: r.body.asOf.lsn as string | null, total: r.body.total as number, ids: (r.body.hits as Array<{ id: string }>).map((x) => x.id) };
  };

  it('keeps a cached search across heartbeat-driven watermark advances, and computes it again after a write', async () => {
    await h.send(change(1, 100, { title: 'alpha', n: 100 }));
    await h.broadcast(keyless('h', 110));
    // Every partition has a position (before that, asOf is null and minLsn cannot wait for it).
    await eventually(async () => ((await search('q=beta')).asOf === '110' ? true : undefined), 'asOf at the first heartbeat', 60_000);
    expect(await search('q=beta')).toMatchObject({ cache: 'hit', asOf: '110', total: 0 });
    const searchesBefore = backend.searches;

    // (a) Heartbeats alone: asOf follows each one, the answer stays the cached one.
    const seen: Array<Awaited<ReturnType<typeof search>>> = [];
    for (const lsn of [120, 130, 140]) {
      await h.broadcast(keyless('h', lsn));
      const r = await eventually(async () => {
        const s = await search('q=beta');
        seen.push(s);
        return s.asOf === String(lsn) ? s : undefined;
      }, `asOf at heartbeat ${lsn}`, 30_000);
      expect(r).toMatchObject({ cache: 'hit', total: 0 });
    }
    expect(seen.every((s) => s.cache === 'hit' && s.total === 0)).toBe(true);
    expect(backend.searches).toBe(searchesBefore);

    // (b) A write (then a heartbeat so every partition passes it): a new generation, a miss that has it.
    await h.send(change(2, 150, { title: 'beta', n: 150 }));
    await h.broadcast(keyless('h', 160));
    const after = await search('q=beta&minLsn=160');
    expect(after).toMatchObject({ cache: 'miss', total: 1, ids: ['2'] });
    expect(BigInt(after.asOf!)).toBeGreaterThanOrEqual(160n);
    expect(backend.searches).toBe(searchesBefore + 1);
    expect(await search('q=beta')).toMatchObject({ cache: 'hit', total: 1 });
  });

  it('computes a cached search again once a reindex swapped the alias to the next generation', async () => {
    // A published watermark, so answers are kept for the TTL (60 s) rather than the 5 s of an index without one.
    await h.broadcast(keyless('h', 200));
    await eventually(async () => ((await search('q=gamma')).asOf === '200' ? true : undefined), 'asOf at heartbeat 200', 60_000);
    expect(await search('q=gamma')).toMatchObject({ cache: 'hit', total: 0 });
    // What a reindex does, in short: the next generation (mapped by the indexer's index template)
    // holds the documents, then one atomic alias swap. No position or data mark moves.
    const [from, to] = [`${h.index}_v1`, `${h.index}_v2`];
    await h.client.indices.create({ index: to });
    await h.client.index({ index: to, id: '3', document: { title: 'gamma', n: 170 }, refresh: true });
    await h.client.indices.updateAliases({ actions: [{ remove: { index: from, alias: h.index } }, { add: { index: to, alias: h.index, is_write_index: true } }] });
    const after = await eventually(async () => {
      const s = await search('q=gamma');
      return s.total === 1 ? s : undefined;
    }, 'the swapped index to be searched', 4_000); // well within the TTL (60 s) and the 5 s of an index without a watermark
    expect(after).toMatchObject({ cache: 'miss', ids: ['3'] });

    // The reindex's catch-up after the swap writes into the new generation directly and publishes
    // that index's own positions (reindex.ts): a write the cached answers must not outlive either.
    expect(await search('q=delta')).toMatchObject({ total: 0 });
    expect(await search('q=delta')).toMatchObject({ cache: 'hit', total: 0 });
    await h.client.index({ index: to, id: '4', document: { title: 'delta', n: 210 }, refresh: true });
    await publishPositions(h.client, [{ index: to, topic: h.topic, partition: 0, partitions: PARTITIONS, lsn: 210n, dataMark: 'reindex.1' }]);
    const caughtUp = await eventually(async () => {
      const s = await search('q=delta');
      return s.total === 1 ? s : undefined;
    }, 'the catch-up write to be searched', 4_000);
    expect(caughtUp).toMatchObject({ cache: 'miss', ids: ['4'] });
  });
});
