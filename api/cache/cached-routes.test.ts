import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import type { IndexPositions, PositionsSource } from '../freshness/positions-source';
import { WatermarkCache } from '../freshness/watermark-cache';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { ResultCache } from './result-cache';

/** The routes with the result cache and a watermark the test moves by hand (no services). */
class Positions implements PositionsSource {
  lsn = 100n;
  /** Set to publish data marks as a current indexer does; undefined as an older one did. */
  dataMark: string | undefined;
  topicOf() {
    return 'cdc.public.books';
  }
  async read(): Promise<IndexPositions> {
    const now = new Date().toISOString();
    return { topic: 'cdc.public.books', partitions: 1, positions: new Map([[0, { lsn: this.lsn, updatedAt: now, commitTs: now, ...(this.dataMark ? { dataMark: this.dataMark } : {}) }]]) };
  }
}

function setup(consistencyWaitMs = 2_000) {
  const backend = new FakeBackend();
  const positions = new Positions();
  const watermarks = new WatermarkCache(positions, { refreshMs: 10, waitPollMs: 5, log: silentLogger });
  const metrics = createApiMetrics();
  const app = createApp({ pipeline: testPipeline, search: backend, metrics, log: silentLogger, cache: new ResultCache({ maxEntries: 100, maxBytes: 1e6, ttlMs: 60_000, events: metrics.cache }), watermarks, consistencyWaitMs });
  return { backend, positions, watermarks, metrics, http: request(app.callback()) };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('cached answers', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => (ctx = setup()));
  afterEach(() => ctx.watermarks.close());

  it('answers an equivalent request from the cache, saying so, with the watermark it reflects', async () => {
    const miss = await ctx.http.get('/v1/indexes/books/search?q=dune&size=10');
    const hit = await ctx.http.get('/v1/indexes/books/search?size=10&page=1&q=dune&highlight=true');
    expect([miss.status, miss.headers['x-cache'], miss.body.cache]).toEqual([200, 'miss', 'miss']);
    expect([hit.status, hit.headers['x-cache'], hit.body.cache]).toEqual([200, 'hit', 'hit']);
    expect(ctx.backend.searches).toHaveLength(1);
    expect(hit.body.asOf.lsn).toBe('100');
    expect(hit.headers['x-as-of-lsn']).toBe('100');
    expect(hit.body.stale).toBe(false);
    expect(hit.body.hits).toEqual(miss.body.hits);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    expect(hit.headers['cache-control']).toBe('private, no-cache');
    const post = await ctx.http.post('/v1/indexes/books/search').send({ q: 'dune' });
    expect(post.headers['x-cache']).toBe('hit');
    const metrics = await ctx.http.get('/metrics');
    expect(metrics.text).toMatch(/api_cache_responses_total\{route="search",result="hit"\} 2/);
    expect(metrics.text).toMatch(/api_cache_lookups_total\{route="search",level="memory",result="miss"\} 1/);
  });

  it('stops serving an entry as soon as the watermark moves', async () => {
    await ctx.http.get('/v1/indexes/books/search?q=dune');
    ctx.backend.searchResult = { ...ctx.backend.searchResult, total: 2 };
    ctx.positions.lsn = 101n;
    await until(async () => (await ctx.watermarks.current(testPipeline.indexes[0]!)).lsn === 101n);
    const after = await ctx.http.get('/v1/indexes/books/search?q=dune');
    expect([after.headers['x-cache'], after.body.total, after.body.asOf.lsn]).toEqual(['miss', 2, '101']);
  });

  it('keeps serving an entry while only heartbeats move the watermark, with the newer asOf, and stops once documents changed', async () => {
    ctx.positions.dataMark = 'e.1';
    await ctx.http.get('/v1/indexes/books/search?q=dune');
    for (const lsn of [101n, 102n, 103n]) {
      ctx.positions.lsn = lsn;
      await until(async () => (await ctx.watermarks.current(testPipeline.indexes[0]!)).lsn === lsn);
      const hit = await ctx.http.get('/v1/indexes/books/search?q=dune');
      expect([hit.headers['x-cache'], hit.body.asOf.lsn]).toEqual(['hit', lsn.toString()]);
    }
    expect(ctx.backend.searches).toHaveLength(1);
    ctx.backend.searchResult = { ...ctx.backend.searchResult, total: 2 };
    ctx.positions.lsn = 104n;
    ctx.positions.dataMark = 'e.2';
    await until(async () => (await ctx.watermarks.current(testPipeline.indexes[0]!)).lsn === 104n);
    const after = await ctx.http.get('/v1/indexes/books/search?q=dune');
    expect([after.headers['x-cache'], after.body.total, after.body.asOf.lsn]).toEqual(['miss', 2, '104']);
  });

  it('answers a GET whose If-None-Match names the current answer with a 304, and a changed answer with a 200', async () => {
    const first = await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre');
    const again = await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre').set('If-None-Match', first.headers.etag!);
    expect([again.status, again.text, again.headers.etag, again.headers['x-cache']]).toEqual([304, '', first.headers.etag, 'hit']);
    const other = await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre').set('If-None-Match', 'W/"something-else"');
    expect(other.status).toBe(200);
    expect(ctx.backend.analyticsCalls).toHaveLength(1);
  });

  it('caches CSV apart from JSON, with its headers', async () => {
    await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre');
    const csv = await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre&format=csv');
    const csvAgain = await ctx.http.get('/v1/indexes/books/analytics?groupBy=genre').set('Accept', 'text/csv');
    expect([csv.headers['x-cache'], csvAgain.headers['x-cache']]).toEqual(['miss', 'hit']);
    expect(csvAgain.headers['content-type']).toMatch(/text\/csv/);
    expect(csvAgain.headers['content-disposition']).toMatch(/books-analytics\.csv/);
    expect(csvAgain.text).toBe(csv.text);
  });

  it('never caches cursor pages', async () => {
    ctx.backend.searchResult = { ...ctx.backend.searchResult, next: { pitId: 'pit', searchAfter: [1] } };
    for (let i = 0; i < 2; i++) {
      const res = await ctx.http.get('/v1/indexes/books/search?cursor=start');
      expect([res.status, res.headers['x-cache'], res.body.cache, res.headers.etag]).toEqual([200, 'bypass', 'bypass', undefined]);
    }
    expect(ctx.backend.searches).toHaveLength(2);
  });

  it('does not cache errors', async () => {
    const backend = ctx.backend;
    const original = backend.search.bind(backend);
    backend.search = async () => Promise.reject(new Error('boom'));
    expect((await ctx.http.get('/v1/indexes/books/search?q=x')).status).toBe(500);
    backend.search = original;
    expect((await ctx.http.get('/v1/indexes/books/search?q=x')).headers['x-cache']).toBe('miss');
  });
});

describe('read-your-writes through the routes', () => {
  it('waits for the watermark to reach minLsn, then answers what includes it', async () => {
    const ctx = setup();
    try {
      setTimeout(() => (ctx.positions.lsn = 150n), 50);
      const res = await ctx.http.get('/v1/indexes/books/search?q=dune&minLsn=150');
      expect([res.status, res.body.stale, res.body.asOf.lsn]).toEqual([200, false, '150']);
      const doc = await ctx.http.get('/v1/indexes/books/documents/1?minLsn=150');
      expect([doc.status, doc.body.stale, doc.body.asOf.lsn, doc.body.cache]).toEqual([200, false, '150', 'bypass']);
    } finally {
      ctx.watermarks.close();
    }
  });

  it('answers stale: true once the bound passes', async () => {
    const ctx = setup(50);
    try {
      const res = await ctx.http.get('/v1/indexes/books/analytics?minLsn=1000');
      expect([res.status, res.body.stale, res.headers['x-stale'], res.body.asOf.lsn]).toEqual([200, true, 'true', '100']);
      const metrics = await ctx.http.get('/metrics');
      expect(metrics.text).toMatch(/api_consistency_waits_total\{outcome="stale"\} 1/);
    } finally {
      ctx.watermarks.close();
    }
  });

  it('refuses a malformed token or LSN with a 400 naming the fix', async () => {
    const ctx = setup();
    try {
      const bad = await ctx.http.get('/v1/indexes/books/search?consistency=nope');
      expect([bad.status, bad.body.error.code]).toEqual([400, 'CONSISTENCY_TOKEN_INVALID']);
      const lsn = await ctx.http.get('/v1/indexes/books/documents/1?minLsn=abc');
      expect([lsn.status, lsn.body.error.code]).toEqual([400, 'PARAM_INVALID']);
    } finally {
      ctx.watermarks.close();
    }
  });
});
