import { createHash } from 'node:crypto';
import type { Tracing } from '../../core/tracing';
import { LruCache } from './lru';
import type { SharedStore } from './shared-store';
import { SingleFlight } from './single-flight';

/** A rendered 200 answer as it is cached: the body as sent, its content type, extra headers and ETag. */
export interface CachedResponse {
  type: string;
  body: string;
  headers: Record<string, string>;
  etag: string;
}

export type CacheLevel = 'memory' | 'redis';

export interface CacheLookup {
  response: CachedResponse;
  /** hit: answered from a level, or by joining an identical request already in flight. */
  result: 'hit' | 'miss';
  /** Where it was found, or `joined`; absent on a miss. */
  source?: CacheLevel | 'joined';
}

export interface CacheEvents {
  lookup(route: string, level: CacheLevel, result: 'hit' | 'miss'): void;
  joined(route: string): void;
}

export interface ResultCacheOptions {
  /** In-process level bounds; maxEntries 0 switches caching off entirely. */
  maxEntries: number;
  maxBytes: number;
  /** Backstop lifetime; each entry gets ± `jitter` of it at random so entries do not expire together. */
  ttlMs: number;
  jitter?: number;
  shared?: SharedStore;
  /**
   * Cross-process single-flight: on a miss in both levels, the first process claims the key in
   * the shared store and computes; the others poll the shared level up to this long, then compute
   * anyway (so a slow or dead holder delays them by at most this). 0 = off. Default: 0.
   */
  sharedLockWaitMs?: number;
  events?: CacheEvents;
  /** Each lookup as an `api.cache` span (core/tracing.ts); its computation's Elasticsearch calls are its children. */
  tracing?: Tracing;
  random?: () => number;
  now?: () => number;
}

/**
 * Two cache levels (in-process LRU, then the shared store) in front of a computation, with
 * single-flight so concurrent identical misses compute once. Entries are never invalidated in
 * place: the key carries the index's watermark generation (cache-key.ts), so a change reaching
 * the index makes new keys and old entries age out.
 */
export class ResultCache {
  private readonly memory: LruCache<CachedResponse>;
  private readonly flights = new SingleFlight<{ response: CachedResponse; source?: CacheLevel }>();

  constructor(private readonly opts: ResultCacheOptions) {
    this.memory = new LruCache(opts.maxEntries, opts.maxBytes, opts.now);
  }

  get enabled(): boolean {
    return this.opts.maxEntries > 0;
  }

  /** `maxTtlMs` shortens the backstop lifetime of what this call stores. */
  getOrCompute(key: string, route: string, compute: () => Promise<Omit<CachedResponse, 'etag'>>, maxTtlMs?: number): Promise<CacheLookup> {
    const tracing = this.opts.tracing;
    if (!tracing?.on) return this.lookUp(key, route, compute, maxTtlMs);
    return tracing.inSpan('api.cache', { attributes: { 'pipeline.route': route } }, async (span) => {
      const found = await this.lookUp(key, route, compute, maxTtlMs);
      span.setAttributes({ 'pipeline.cache.result': found.result, ...(found.source ? { 'pipeline.cache.source': found.source } : {}) });
      return found;
    });
  }

  private async lookUp(key: string, route: string, compute: () => Promise<Omit<CachedResponse, 'etag'>>, maxTtlMs?: number): Promise<CacheLookup> {
    const events = this.opts.events;
    const inMemory = this.memory.get(key);
    events?.lookup(route, 'memory', inMemory ? 'hit' : 'miss');
    if (inMemory) return { response: inMemory, result: 'hit', source: 'memory' };

    const { value, joined } = await this.flights.run(key, async () => {
      const { found: fromShared, locked } = await this.lookUpShared(key);
      if (this.opts.shared) events?.lookup(route, 'redis', fromShared ? 'hit' : 'miss');
      if (fromShared) {
        this.remember(key, fromShared, maxTtlMs);
        return { response: fromShared, source: 'redis' as const };
      }
      let rendered: Omit<CachedResponse, 'etag'>;
      try {
        rendered = await compute();
      } catch (err) {
        if (locked) void this.opts.shared?.unlock(key);
        throw err;
      }
      const response = { ...rendered, etag: etagOf(rendered.body) };
      const ttlMs = this.remember(key, response, maxTtlMs);
      // Not awaited: the caller has its answer. With the lock, value and unlock go together, so a
      // process polling for the value finds it on its next poll and nobody computes it twice.
      const json = JSON.stringify(response);
      void (locked ? this.opts.shared?.setAndUnlock(key, json, ttlMs) : this.opts.shared?.set(key, json, ttlMs));
      return { response };
    });
    if (joined) {
      events?.joined(route);
      return { response: value.response, result: 'hit', source: 'joined' };
    }
    return value.source ? { response: value.response, result: 'hit', source: value.source } : { response: value.response, result: 'miss' };
  }

  private remember(key: string, response: CachedResponse, maxTtlMs = Infinity): number {
    const jitter = this.opts.jitter ?? 0.2;
    const ttlMs = Math.min(this.opts.ttlMs, maxTtlMs) * (1 - jitter + 2 * jitter * (this.opts.random ?? Math.random)());
    this.memory.set(key, response, response.body.length * 2 + 256, ttlMs);
    return ttlMs;
  }

  /**
   * The shared level's answer, or none and whether this process holds the lock (then it computes
   * and stores). Without the lock another process is computing: poll for its answer up to
   * `sharedLockWaitMs`, then compute anyway.
   */
  private async lookUpShared(key: string): Promise<{ found?: CachedResponse; locked: boolean }> {
    const shared = this.opts.shared;
    const waitMs = this.opts.sharedLockWaitMs ?? 0;
    if (!shared) return { locked: false };
    if (waitMs <= 0) return { found: await this.readShared(key), locked: false };
    // The lock outlives the wait a little, so a holder slower than waitMs is not joined by everyone at once.
    const first = await shared.getOrLock(key, waitMs * 2);
    const found = this.decode(first.value);
    if (found || first.locked) return { found, locked: first.locked && !found };
    // An entry we cannot read is a miss like no entry: claim it rather than wait for nobody.
    if (first.value !== undefined && (await shared.lock(key, waitMs * 2))) return { locked: true };
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      const polled = await this.readShared(key);
      if (polled) return { found: polled, locked: false };
    }
    return { locked: false };
  }

  private async readShared(key: string): Promise<CachedResponse | undefined> {
    return this.decode(await this.opts.shared?.get(key));
  }

  private decode(raw: string | undefined): CachedResponse | undefined {
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as CachedResponse;
      return typeof v.body === 'string' && typeof v.etag === 'string' && typeof v.type === 'string' ? { ...v, headers: v.headers ?? {} } : undefined;
    } catch {
      return undefined; // an entry we cannot read is a miss; a fresh one will overwrite it
    }
  }
}

/** A weak validator: the bodies sent on a hit and a miss differ only in the cache and age fields. */
export function etagOf(body: string): string {
  return `W/"${createHash('sha1').update(body).digest('base64url')}"`;
}
