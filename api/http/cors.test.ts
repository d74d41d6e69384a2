import request from 'supertest';
import { loadApiConfig } from '../../config';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import type { CorsOrigins } from './cors';

const SHOP = 'https://shop.example.com';

function app(corsOrigins: CorsOrigins) {
  return request(createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'x'.repeat(32), corsOrigins }).callback());
}

describe('CORS (API_CORS_ORIGINS)', () => {
  it('answers a preflight from a listed origin with the methods and headers a key needs, never with credentials', async () => {
    const res = await app([SHOP]).options('/v1/indexes/books/search').set('Origin', SHOP).set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(res.headers['access-control-allow-headers']).toMatch(/X-API-Key/);
    expect(res.headers['access-control-allow-methods']).toMatch(/GET, POST/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it('refuses a preflight from another origin with a 403 that names the setting, and adds no CORS headers to its answers', async () => {
    const http = app([SHOP]);
    const pre = await http.options('/v1/indexes/books/search').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET');
    expect([pre.status, pre.body.error.code]).toEqual([403, 'CORS_ORIGIN_NOT_ALLOWED']);
    expect(pre.body.error.message).toMatch(/API_CORS_ORIGINS/);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const get = await http.get('/v1/indexes/books/search').set('Origin', 'https://evil.example');
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a listed origin read answers, errors included, and the headers it needs', async () => {
    const http = app([SHOP]);
    const ok = await http.get('/v1/indexes/books/search').set('Origin', SHOP);
    expect(ok.headers['access-control-allow-origin']).toBe(SHOP);
    expect(ok.headers['access-control-expose-headers']).toMatch(/X-Request-Id.*Retry-After/);
    const err = await http.get('/v1/indexes/books/search?size=999').set('Origin', SHOP);
    expect(err.status).toBe(400);
    expect(err.headers['access-control-allow-origin']).toBe(SHOP);
  });

  it('answers * to any origin, still without credentials, and sends nothing when unset', async () => {
    const any = await app('*').get('/v1/indexes/books/search').set('Origin', 'https://anywhere.example');
    expect(any.headers['access-control-allow-origin']).toBe('*');
    expect(any.headers['access-control-allow-credentials']).toBeUndefined();
    const none = await app([]).get('/v1/indexes/books/search').set('Origin', SHOP);
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('reads API_CORS_ORIGINS in config and says what is wrong with an entry', () => {
    const base = { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };
    expect(loadApiConfig(base).corsOrigins).toEqual([]);
    expect(loadApiConfig({ ...base, API_CORS_ORIGINS: `${SHOP}, http://localhost:3000` }).corsOrigins).toEqual([SHOP, 'http://localhost:3000']);
    expect(loadApiConfig({ ...base, API_CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    for (const bad of [`${SHOP}/`, `${SHOP}/shop`, 'shop.example.com', 'ftp://x.example', '*,https://a.example', 'https://Shop.example.com']) {
      expect(() => loadApiConfig({ ...base, API_CORS_ORIGINS: bad })).toThrow(/API_CORS_ORIGINS/);
    }
  });

  it('reads the browser key settings and refuses a short secret', () => {
    const base = { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };
    expect(loadApiConfig(base).browserKeys).toEqual({ secret: undefined, maxTtlS: 3600 });
    expect(loadApiConfig({ ...base, API_BROWSER_KEY_SECRET: 'k'.repeat(32), API_BROWSER_KEY_MAX_TTL_S: '600' }).browserKeys).toEqual({ secret: 'k'.repeat(32), maxTtlS: 600 });
    expect(() => loadApiConfig({ ...base, API_BROWSER_KEY_SECRET: 'short' })).toThrow(/at least 32/);
  });
});
