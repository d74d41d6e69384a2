import { encodeConsistencyToken, decodeConsistencyToken } from '../../core/consistency-token';
import { silentLogger } from '../../core/logger';
import { testPipeline } from '../testing/fake-backend';
import { Params } from '../http/params';
import { asOfOf, freshnessOf } from './freshness';
import type { IndexPositions, PositionsSource } from './positions-source';
import { CONSISTENCY_PARAMS, parseRequirement, requirementMet } from './read-your-writes';
import { UNAVAILABLE, WatermarkCache } from './watermark-cache';

const books = testPipeline.indexes[0]!;
const TOPIC = 'cdc.public.books';
const at = (iso: string) => ({ updatedAt: iso, commitTs: iso });
const read = (partitions: number, lsns: Array<[number, bigint, string?]>): IndexPositions => ({
  topic: TOPIC,
  partitions,
  positions: new Map(lsns.map(([p, lsn, ts]) => [p, { lsn, ...at(ts ?? '2026-01-01T00:00:00.000Z') }])),
});

/** A watermark store the test moves by hand; counts reads. */
class MovableSource implements PositionsSource {
  reads = 0;
  fail = false;
  constructor(public current: IndexPositions) {}
  topicOf() {
    return TOPIC;
  }
  async read() {
    this.reads++;
    if (this.fail) throw new Error('es down');
    return this.current;
  }
}

describe('freshness of an index', () => {
  it('is the lowest partition position and the oldest commit time, once every partition has one', () => {
    const f = freshnessOf(read(3, [[0, 30n, '2026-01-01T00:00:03Z'], [1, 10n, '2026-01-01T00:00:01Z'], [2, 20n, '2026-01-01T00:00:02Z']]));
    expect(f.lsn).toBe(10n);
    expect(asOfOf(f, Date.parse('2026-01-01T00:00:04Z'))).toEqual({ lsn: '10', ageMs: 3000 });
    const partial = freshnessOf(read(3, [[0, 30n], [1, 10n]]));
    expect(partial.lsn).toBeUndefined();
    expect(asOfOf(partial, 0)).toEqual({ lsn: null, ageMs: null });
  });

  it('keeps LSNs above 2^53 exact', () => {
    const big = 2n ** 53n + 1n;
    expect(asOfOf(freshnessOf(read(1, [[0, big]])), 0).lsn).toBe('9007199254740993');
  });

  it('gets a new generation when any partition moves, not only the lowest', () => {
    const g = (lsns: Array<[number, bigint]>) => freshnessOf(read(2, lsns)).generation;
    expect(g([[0, 10n], [1, 20n]])).toBe(g([[1, 20n], [0, 10n]]));
    expect(g([[0, 10n], [1, 21n]])).not.toBe(g([[0, 10n], [1, 20n]]));
    expect(freshnessOf(read(0, [])).generation).toBe('none');
  });

  it('keeps its generation while positions move on heartbeats alone, and changes it when any partition\'s documents changed', () => {
    const marked = (lsns: Array<[number, bigint, string]>): IndexPositions => ({
      topic: TOPIC,
      partitions: lsns.length,
      positions: new Map(lsns.map(([p, lsn, dataMark]) => [p, { lsn, dataMark, ...at('2026-01-01T00:00:00.000Z') }])),
    });
    const before = freshnessOf(marked([[0, 10n, 'e.1'], [1, 20n, 'e.2']]));
    const heartbeats = freshnessOf(marked([[0, 15n, 'e.1'], [1, 25n, 'e.2']]));
    expect(heartbeats.generation).toBe(before.generation);
    expect(heartbeats.lsn).toBe(15n); // asOf and read-your-writes still see the full position
    expect(freshnessOf(marked([[0, 15n, 'e.1'], [1, 25n, 'e.3']])).generation).not.toBe(before.generation);
    // The same marks on other partitions are another state.
    expect(freshnessOf(marked([[0, 10n, 'e.2'], [1, 20n, 'e.1']])).generation).not.toBe(before.generation);
    // So is the same data behind an alias swapped to the next generation of the index (a reindex).
    const v1 = freshnessOf({ ...marked([[0, 10n, 'e.1']]), target: { name: 'books_v1', marks: [] } });
    expect(freshnessOf({ ...marked([[0, 15n, 'e.1']]), target: { name: 'books_v1', marks: [] } }).generation).toBe(v1.generation);
    const v2 = freshnessOf({ ...marked([[0, 15n, 'e.1']]), target: { name: 'books_v2', marks: ['books_v2:0:r.1'] } });
    expect(v2.generation).not.toBe(v1.generation);
    // The reindex's catch-up writing into the new generation after the swap.
    expect(freshnessOf({ ...marked([[0, 15n, 'e.1']]), target: { name: 'books_v2', marks: ['books_v2:0:r.2'] } }).generation).not.toBe(v2.generation);
  });
});

describe('freshness of a joined index', () => {
  // titles joined with parts: a change of a part is searchable once the parts topic's partitions pass it.
  const joined = (parts: Array<[number, bigint, string?]>, partitions = 2): IndexPositions => ({
    ...read(2, [[0, 300n], [1, 300n]]),
    related: [{ topic: 'cdc.public.parts', partitions, positions: new Map(parts.map(([p, lsn, dataMark]) => [p, { lsn, ...(dataMark ? { dataMark } : {}), ...at('2026-01-01T00:00:00.000Z') }])) }],
  });

  it('has the lowest position over its own and its related topics as its watermark, once all have one', () => {
    expect(freshnessOf(joined([[0, 120n], [1, 400n]])).lsn).toBe(120n);
    expect(freshnessOf(joined([[0, 120n]])).lsn).toBeUndefined();
  });

  it('gets a new generation when documents changed through a related topic', () => {
    const before = freshnessOf(joined([[0, 120n, 'r.1'], [1, 400n, 'r.2']]));
    expect(freshnessOf(joined([[0, 130n, 'r.1'], [1, 410n, 'r.2']])).generation).toBe(before.generation);
    expect(freshnessOf(joined([[0, 130n, 'r.3'], [1, 410n, 'r.2']])).generation).not.toBe(before.generation);
  });

  it('meets minLsn only once the related topics passed it too', () => {
    const req = parseRequirement(new Params({ minLsn: '200' }, CONSISTENCY_PARAMS))!;
    expect(requirementMet(req, freshnessOf(joined([[0, 120n], [1, 400n]])))).toBe(false);
    expect(requirementMet(req, freshnessOf(joined([[0, 200n], [1, 400n]])))).toBe(true);
  });
});

describe('read-your-writes requirements', () => {
  const parse = (raw: Record<string, string>) => parseRequirement(new Params(raw, CONSISTENCY_PARAMS));
  const f = freshnessOf(read(3, [[0, 100n], [1, 50n], [2, 200n]]));

  it('compares minLsn with the watermark (the lowest partition)', () => {
    expect(requirementMet(parse({ minLsn: '50' })!, f)).toBe(true);
    expect(requirementMet(parse({ minLsn: '51' })!, f)).toBe(false);
  });

  it('lets partitions without any position (no data) not block minLsn, and minLsn=0 always pass', () => {
    const oneOfThree = freshnessOf(read(3, [[0, 100n]]));
    expect(oneOfThree.lsn).toBeUndefined(); // no complete watermark for asOf
    expect(requirementMet(parse({ minLsn: '100' })!, oneOfThree)).toBe(true);
    expect(requirementMet(parse({ minLsn: '101' })!, oneOfThree)).toBe(false);
    expect(requirementMet(parse({ minLsn: '0' })!, oneOfThree)).toBe(true);
    const nothing = freshnessOf(read(3, []));
    expect(requirementMet(parse({ minLsn: '0' })!, nothing)).toBe(true);
    expect(requirementMet(parse({ minLsn: '1' })!, nothing)).toBe(false);
  });

  it('does not wait on an index whose positions cover one partition of three', async () => {
    const cache = new WatermarkCache(new MovableSource(read(3, [[0, 100n]])), { refreshMs: 60_000, log: silentLogger });
    try {
      for (const minLsn of ['0', '50', '100']) {
        const start = Date.now();
        const { satisfied } = await cache.waitFor(books, (fr) => requirementMet(parse({ minLsn })!, fr), 5_000);
        expect([minLsn, satisfied, Date.now() - start < 1_000]).toEqual([minLsn, true, true]);
      }
    } finally {
      cache.close();
    }
  });

  it('compares a token with the positions of the partitions it names, on this index\'s topic only', () => {
    const token = (p: number, lsn: bigint, topic = TOPIC) => encodeConsistencyToken([{ topic, partition: p, lsn }]);
    expect(requirementMet(parse({ consistency: token(2, 150n) })!, f)).toBe(true); // above the watermark, but partition 2 has it
    expect(requirementMet(parse({ consistency: token(1, 51n) })!, f)).toBe(false);
    expect(requirementMet(parse({ consistency: token(0, 999n, 'cdc.public.other') })!, f)).toBe(true);
    expect(requirementMet({ token: decodeConsistencyToken(token(5, 1n)) }, f)).toBe(false); // an unknown partition has nothing yet
  });

  it('refuses malformed values with a 400 saying what to send', () => {
    expect(parse({})).toBeUndefined();
    expect(() => parse({ minLsn: '0/16B3748' })).toThrow(/minLsn must be a decimal LSN/);
    expect(() => parse({ minLsn: '99999999999999999999' })).toThrow(/minLsn/);
    try {
      parse({ consistency: 'garbage' });
      throw new Error('no error');
    } catch (err) {
      expect(err).toMatchObject({ status: 400, code: 'CONSISTENCY_TOKEN_INVALID' });
    }
  });
});

describe('WatermarkCache', () => {
  let cache: WatermarkCache | undefined;
  afterEach(() => cache?.close());

  it('serves the in-process copy to many requests with one read, and a poller refreshes it', async () => {
    const source = new MovableSource(read(1, [[0, 1n]]));
    cache = new WatermarkCache(source, { refreshMs: 20, log: silentLogger });
    const all = await Promise.all(Array.from({ length: 100 }, () => cache!.current(books)));
    expect(all.every((f) => f.lsn === 1n)).toBe(true);
    expect(source.reads).toBe(1);
    source.current = read(1, [[0, 2n]]);
    for (let i = 0; i < 200 && (await cache.current(books)).lsn !== 2n; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await cache.current(books)).lsn).toBe(2n);
  });

  it('waits until a requirement is met, or answers unsatisfied when the bound passes', async () => {
    const source = new MovableSource(read(1, [[0, 1n]]));
    cache = new WatermarkCache(source, { refreshMs: 1_000, waitPollMs: 5, log: silentLogger });
    setTimeout(() => (source.current = read(1, [[0, 5n]])), 30);
    const met = await cache.waitFor(books, (f) => (f.lsn ?? 0n) >= 5n, 5_000);
    expect([met.satisfied, met.freshness.lsn]).toEqual([true, 5n]);
    const missed = await cache.waitFor(books, (f) => (f.lsn ?? 0n) >= 6n, 50);
    expect([missed.satisfied, missed.freshness.lsn]).toEqual([false, 5n]);
  });

  it('does not wait on an index that never published a watermark', async () => {
    const source = new MovableSource(read(0, []));
    cache = new WatermarkCache(source, { refreshMs: 1_000, log: silentLogger });
    const r = await cache.waitFor(books, () => false, 60_000);
    expect([r.satisfied, r.freshness.generation]).toEqual([false, 'none']);
  });

  it('keeps the last reading when a read fails, and says unavailable when there is none', async () => {
    const source = new MovableSource(read(1, [[0, 7n]]));
    source.fail = true;
    cache = new WatermarkCache(source, { refreshMs: 10, log: silentLogger });
    expect((await cache.current(books)).generation).toBe(UNAVAILABLE);
    source.fail = false;
    await new Promise((r) => setTimeout(r, 50));
    expect((await cache.current(books)).lsn).toBe(7n);
    source.fail = true;
    await new Promise((r) => setTimeout(r, 50));
    expect((await cache.current(books)).lsn).toBe(7n);
  });
});
