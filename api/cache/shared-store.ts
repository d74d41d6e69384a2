import type Redis from 'ioredis';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

/**
 * The second cache level, shared by every API instance. A port so the cache logic is tested
 * without Redis. Its methods never throw: a cache that is down makes requests uncached, never
 * failed (each failure is counted and logged, at most every LOG_EVERY_MS).
 */
export interface SharedStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Claims the computation of `key` across processes for at most `ttlMs` (a holder that dies
   * frees it by expiry). False when another process holds it; true also when the store is
   * unreachable, so nobody waits on a lock that cannot exist.
   */
  lock(key: string, ttlMs: number): Promise<boolean>;
  unlock(key: string): Promise<void>;
  /**
   * `get`, and when there is no value, `lock` (same meaning of `locked`) in one round trip: the
   * miss path of an answer nobody computed yet pays one Redis round trip before Elasticsearch.
   */
  getOrLock(key: string, lockTtlMs: number): Promise<{ value?: string; locked: boolean }>;
  /** `set`, then `unlock`, atomically and in one round trip: the lock is never free while the value is missing. */
  setAndUnlock(key: string, value: string, ttlMs: number): Promise<void>;
}

/** GET the value, else SET NX the lock: [1, value] | [0, 1 when locked else 0]. */
const GET_OR_LOCK = `local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[1], 'NX') then return {0, 1} end
return {0, 0}`;

/** SET the value, then DEL the lock: one command, where MULTI/EXEC would be four. */
const SET_AND_UNLOCK = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1`;

type WithScripts = Redis & {
  cacheGetOrLock(key: string, lockKey: string, lockTtlMs: number): Promise<[number, string | number]>;
  cacheSetAndUnlock(key: string, lockKey: string, value: string, ttlMs: number): Promise<number>;
};

const LOG_EVERY_MS = 10_000;

export class RedisStore implements SharedStore {
  private lastLog = 0;

  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; log: Logger; onError: (operation: 'get' | 'set' | 'lock') => void; now?: () => number },
  ) {
    // ioredis sends EVALSHA and falls back to EVAL once per connection when the script is not loaded.
    if (!('cacheGetOrLock' in redis)) redis.defineCommand('cacheGetOrLock', { numberOfKeys: 2, lua: GET_OR_LOCK });
    if (!('cacheSetAndUnlock' in redis)) redis.defineCommand('cacheSetAndUnlock', { numberOfKeys: 2, lua: SET_AND_UNLOCK });
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.usable('get')) return undefined;
    try {
      return (await this.redis.get(this.opts.prefix + key)) ?? undefined;
    } catch (err) {
      this.failed('get', err);
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!this.usable('set')) return;
    try {
      await this.redis.set(this.opts.prefix + key, value, 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.failed('set', err);
    }
  }

  async lock(key: string, ttlMs: number): Promise<boolean> {
    if (!this.usable('lock')) return true;
    try {
      return (await this.redis.set(this.lockKey(key), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
    } catch (err) {
      this.failed('lock', err);
      return true;
    }
  }

  async getOrLock(key: string, lockTtlMs: number): Promise<{ value?: string; locked: boolean }> {
    if (!this.usable('get')) return { locked: true };
    try {
      const [found, v] = await (this.redis as WithScripts).cacheGetOrLock(this.opts.prefix + key, this.lockKey(key), Math.max(1, Math.round(lockTtlMs)));
      return found === 1 ? { value: String(v), locked: false } : { locked: v === 1 };
    } catch (err) {
      this.failed('get', err);
      return { locked: true };
    }
  }

  async setAndUnlock(key: string, value: string, ttlMs: number): Promise<void> {
    if (!this.usable('set')) return;
    try {
      await (this.redis as WithScripts).cacheSetAndUnlock(this.opts.prefix + key, this.lockKey(key), value, Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.failed('set', err);
    }
  }

  async unlock(key: string): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      await this.redis.del(this.lockKey(key));
    } catch (err) {
      this.failed('lock', err);
    }
  }

  private lockKey(key: string): string {
    return `${this.opts.prefix}lock:${key}`;
  }

  /** While disconnected, skip Redis at once instead of queueing or timing out on every request. */
  private usable(operation: 'get' | 'set' | 'lock'): boolean {
    if (this.redis.status === 'ready') return true;
    this.failed(operation, new Error(`redis is ${this.redis.status}`));
    return false;
  }

  private failed(operation: 'get' | 'set' | 'lock', err: unknown): void {
    this.opts.onError(operation);
    const now = (this.opts.now ?? Date.now)();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.opts.log.warn('result cache: redis unavailable, serving uncached', { operation, err: errorMessage(err) });
  }
}
