import { ResultCache, etagOf } from './result-cache';
import type { SharedStore } from './shared-store';

class MapStore implements SharedStore {
  readonly data = new Map<string, string>();
  down = false;
  async get(key: string) {
    return this.down ? undefined : this.data.get(key);
  }
  async set(key: string, value: string) {
    if (!this.down) this.data.set(key, value);
  }
  readonly locks = new Set<string>();
  async lock(key: string) {
    if (this.down) return true;
    if (this.locks.has(key)) return false;
    this.locks.add(key);
    return true;
  }
  async unlock(key: string) {
    this.locks.delete(key);
  }
  readonly roundTrips: string[] = [];
  async getOrLock(key: string) {
    this.roundTrips.push('getOrLock');
    const value = await this.get(key);
    return value !== undefined ? { value, locked: false } : { locked: await this.lock(key) };
  }
  async setAndUnlock(key: string, value: string) {
    this.roundTrips.push('setAndUnlock');
    await this.set(key, value);
    await this.unlock(key);
  }
}

const render = (body: string) => async () => ({ type: 'application/json', body, headers: {} });

describe('ResultCache', () => {
  it('computes on a miss, then answers from memory with the same ETag', async () => {
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000 });
    let computed = 0;
    const first = await cache.getOrCompute('k', 'search', async () => (computed++, { type: 'application/json', body: '{"a":1}', headers: {} }));
    const second = await cache.getOrCompute('k', 'search', render('{"a":2}'));
    expect([first.result, second.result, second.source, computed]).toEqual(['miss', 'hit', 'memory', 1]);
    expect(second.response.body).toBe('{"a":1}');
    expect(second.response.etag).toBe(first.response.etag);
    expect(first.response.etag).toBe(etagOf('{"a":1}'));
  });

  it('answers from the shared level what another instance computed, and keeps it in memory', async () => {
    const shared = new MapStore();
    const a = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared });
    const b = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared });
    await a.getOrCompute('k', 'search', render('{"from":"a"}'));
    const fromB = await b.getOrCompute('k', 'search', render('{"from":"b"}'));
    expect([fromB.result, fromB.source, fromB.response.body]).toEqual(['hit', 'redis', '{"from":"a"}']);
    shared.data.clear();
    expect((await b.getOrCompute('k', 'search', render('x'))).source).toBe('memory');
  });

  it('computes once for 50 concurrent identical misses; the others join', async () => {
    const joins: string[] = [];
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared: new MapStore(), events: { lookup: () => undefined, joined: (r) => joins.push(r) } });
    let computed = 0;
    const slow = async () => {
      computed++;
      await new Promise((r) => setTimeout(r, 20));
      return { type: 'application/json', body: '{}', headers: {} };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrCompute('k', 'search', slow)));
    expect(computed).toBe(1);
    expect(results.filter((r) => r.result === 'miss')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'joined')).toHaveLength(49);
    expect(joins).toHaveLength(49);
  });

  it('computes when the shared level is down, and does not cache failures', async () => {
    const shared = new MapStore();
    shared.down = true;
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared });
    await expect(cache.getOrCompute('k', 'search', async () => Promise.reject(new Error('es down')))).rejects.toThrow('es down');
    const ok = await cache.getOrCompute('k', 'search', render('{"ok":true}'));
    expect(ok.result).toBe('miss');
  });

  it('treats an unreadable shared entry as a miss', async () => {
    const shared = new MapStore();
    shared.data.set('k', 'not json');
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared });
    expect((await cache.getOrCompute('k', 'search', render('{}'))).result).toBe('miss');
  });

  it('spreads lifetimes by the jitter so entries written together do not expire together', async () => {
    let now = 0;
    const cache = (r: number) => new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 1_000, jitter: 0.2, random: () => r, now: () => now });
    const early = cache(0);
    const late = cache(1);
    await early.getOrCompute('k', 'search', render('{}'));
    await late.getOrCompute('k', 'search', render('{}'));
    now = 900;
    expect((await early.getOrCompute('k', 'search', render('{}'))).result).toBe('miss'); // expired at 800
    expect((await late.getOrCompute('k', 'search', render('{}'))).result).toBe('hit'); // lives until 1200
  });
});

describe('ResultCache lifetimes', () => {
  it('keeps an entry no longer than the caller\'s cap', async () => {
    let now = 0;
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, jitter: 0, now: () => now });
    await cache.getOrCompute('k', 'search', async () => ({ type: 'application/json', body: '{}', headers: {} }), 5_000);
    now = 4_999;
    expect((await cache.getOrCompute('k', 'search', async () => ({ type: 'application/json', body: '{}', headers: {} }))).result).toBe('hit');
    now = 5_000;
    expect((await cache.getOrCompute('k', 'search', async () => ({ type: 'application/json', body: '{}', headers: {} }))).result).toBe('miss');
  });
});

describe('ResultCache across processes (shared lock)', () => {
  const slowRender = (counter: { n: number }, body: string, ms = 60) => async () => {
    counter.n++;
    await new Promise((r) => setTimeout(r, ms));
    return { type: 'application/json', body, headers: {} };
  };

  it('computes once for identical misses in two processes: the other waits for the shared entry', async () => {
    const shared = new MapStore();
    const a = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 2_000 });
    const b = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 2_000 });
    const computed = { n: 0 };
    const [fromA, fromB] = await Promise.all([a.getOrCompute('k', 'search', slowRender(computed, '{"by":"a"}')), b.getOrCompute('k', 'search', slowRender(computed, '{"by":"b"}'))]);
    expect(computed.n).toBe(1);
    expect(fromB.response.body).toBe(fromA.response.body);
    expect([fromA.result, fromB.source]).toEqual(['miss', 'redis']);
    expect(shared.locks.size).toBe(0);
  });

  it('costs a miss one shared-store round trip before computing and one after, with the lock', async () => {
    const shared = new MapStore();
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 1_000 });
    let computedAfter: string[] = [];
    const miss = await cache.getOrCompute('k', 'analytics', async () => ((computedAfter = [...shared.roundTrips]), { type: 'application/json', body: '{"n":1}', headers: {} }));
    expect(miss.result).toBe('miss');
    expect(computedAfter).toEqual(['getOrLock']);
    expect(shared.roundTrips).toEqual(['getOrLock', 'setAndUnlock']);
    expect([shared.data.has('k'), shared.locks.size]).toEqual([true, 0]);
  });

  it('frees the lock when the computation fails, so another process does not wait for nothing', async () => {
    const shared = new MapStore();
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 1_000 });
    await expect(cache.getOrCompute('k', 'search', async () => Promise.reject(new Error('es down')))).rejects.toThrow('es down');
    expect([shared.locks.size, shared.data.size]).toEqual([0, 0]);
  });

  it('claims an unreadable shared entry at once instead of waiting for it', async () => {
    const shared = new MapStore();
    shared.data.set('k', 'not json');
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 60_000 });
    expect((await cache.getOrCompute('k', 'search', render('{"fresh":true}'))).result).toBe('miss');
    expect(JSON.parse(shared.data.get('k')!).body).toBe('{"fresh":true}');
  });

  it('computes anyway once the wait passes, when the holder never delivers', async () => {
    const shared = new MapStore();
    await shared.lock('k'); // a process that died holding it
    const cache = new ResultCache({ maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000, shared, sharedLockWaitMs: 50 });
    const computed = { n: 0 };
    expect((await cache.getOrCompute('k', 'search', slowRender(computed, '{}', 0))).result).toBe('miss');
    expect(computed.n).toBe(1);
    expect(shared.locks.has('k')).toBe(true); // not ours to free
  });
});
