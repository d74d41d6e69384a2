import { silentLogger } from '../../core/logger';
import { env, uniqueName } from '../../e2e/support/services';
import { createCacheRedis } from './redis-client';
import { RedisStore } from './shared-store';

/** The shared cache level's one-round-trip operations against the real Redis (Lua scripts). */
describe('RedisStore against Redis', () => {
  const prefix = `${uniqueName('store')}:`;
  const redis = createCacheRedis(env('REDIS_URL'), silentLogger, 1_000);
  const errors: string[] = [];
  const store = new RedisStore(redis, { prefix, log: silentLogger, onError: (op) => void errors.push(op) });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('reads or locks in one call, and stores with the unlock in one call', async () => {
    await new Promise<void>((r) => (redis.status === 'ready' ? r() : redis.once('ready', () => r())));
    expect(await store.getOrLock('k', 5_000)).toEqual({ locked: true });
    expect(await store.getOrLock('k', 5_000)).toEqual({ locked: false }); // another process computes it
    expect(await redis.pttl(`${prefix}lock:k`)).toBeGreaterThan(0); // a dead holder's lock expires
    await store.setAndUnlock('k', '{"v":1}', 60_000);
    expect(await redis.exists(`${prefix}lock:k`)).toBe(0);
    expect(await redis.pttl(`${prefix}k`)).toBeGreaterThan(50_000);
    expect(await store.getOrLock('k', 5_000)).toEqual({ value: '{"v":1}', locked: false });
    expect(await redis.exists(`${prefix}lock:k`)).toBe(0); // a hit takes no lock
    expect(errors).toEqual([]);
  });
});
