import { execFile } from 'node:child_process';
import path from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { eventually, uniqueName } from '../../e2e/support/services';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { RedisRateLimiter } from '../rate-limit/rate-limiter';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { Authenticator } from './authenticator';
import { RedisApiKeyStore } from '../../core/api-keys/key-store';

/** Keys made by the CLI in the real Redis, checked by the app, revoked by the CLI; rate limits in Redis. */
const ROOT = path.join(__dirname, '..', '..');
const redisUrl = process.env.REDIS_URL as string;

function cli(prefix: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'api-keys.ts'), ...args], { cwd: ROOT, env: { ...process.env, API_REDIS_PREFIX: prefix } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('API keys and rate limits against Redis', () => {
  const redis = new Redis(redisUrl);
  const prefix = `${uniqueName('authtest')}:`;

  function app(opts: { rate?: number; burst?: number; keyCacheMs?: number } = {}) {
    const metrics = createApiMetrics();
    const authenticator = new Authenticator(new RedisApiKeyStore(redis, prefix), { cacheMs: opts.keyCacheMs ?? 200 });
    const rateLimiter = opts.rate ? new RedisRateLimiter(redis, { prefix, ratePerSec: opts.rate, burst: opts.burst ?? 1 }) : undefined;
    return { metrics, http: request(createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics, log: silentLogger, auth: { mode: 'keys', authenticator }, ...(rateLimiter ? { rateLimiter } : {}) }).callback()) };
  }

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('create (CLI) → use → revoke (CLI) → 401 within the key cache period; only the hash is stored', async () => {
    const created = await cli(prefix, 'create', '--tenant', 'acme', '--scopes', 'search', '--name', 'int test');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^spk_[0-9a-f]{16}_\S{43}$/);
    const id = key.split('_')[1]!;
    const stored = await redis.hgetall(`${prefix}apikey:${id}`);
    expect(stored).toMatchObject({ tenant: 'acme', scopes: 'search', name: 'int test' });
    expect(JSON.stringify(stored)).not.toContain(key.split('_')[2]);

    const listed = await cli(prefix, 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, tenant: 'acme', scopes: ['search'] })]);
    expect(listed.stdout).not.toContain(stored.hash);

    const { http } = app({ keyCacheMs: 300 });
    const search = () => http.get('/v1/indexes/books/search?q=dune').set('Authorization', `Bearer ${key}`);
    expect((await search()).status).toBe(200);
    expect((await cli(prefix, 'revoke', id)).code).toBe(0);
    const res = await eventually(async () => {
      const r = await search();
      return r.status === 401 ? r : undefined;
    }, 'the revoked key to be refused', 10_000);
    expect(res.body.error.code).toBe('API_KEY_REVOKED');
    expect((await cli(prefix, 'list')).stdout).toMatch(new RegExp(`${id}\\s+acme\\s+search\\s+\\S+\\s+20\\d\\d-`));
  });

  it('refuses a key without the route scope with 403', async () => {
    const { key } = await new RedisApiKeyStore(redis, prefix).create({ tenant: 'acme', scopes: ['search'] });
    const { http } = app();
    const res = await http.get('/v1/indexes/books/analytics').set('X-API-Key', key);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('SCOPE_MISSING');
    expect((await http.get('/v1/indexes/books/search').set('X-API-Key', key)).status).toBe(200);
  });

  it('answers 429 with Retry-After once a key spent its burst, without touching another key', async () => {
    const store = new RedisApiKeyStore(redis, prefix);
    const noisy = (await store.create({ tenant: 'acme', scopes: ['search'] })).key;
    const quiet = (await store.create({ tenant: 'acme', scopes: ['search'] })).key;
    // 0.2 tokens/s: nothing refills between these requests, so exactly the burst (3) passes.
    const { http, metrics } = app({ rate: 0.2 as number, burst: 3 });
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await http.get('/v1/indexes/books/search').set('Authorization', `Bearer ${noisy}`);
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(limited!.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(5);
    expect((await http.get('/v1/indexes/books/search').set('Authorization', `Bearer ${quiet}`)).status).toBe(200);
    expect(await metrics.registry.getSingleMetricAsString('api_rate_limited_total')).toMatch(/tenant="acme"\} 2/);
  });
});
