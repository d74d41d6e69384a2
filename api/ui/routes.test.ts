import type { Layer } from '@koa/router';
import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { buildOpenApi } from '../openapi/spec';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { buildSearchScript, type SearchPageAssets } from './bundle';
import { inertJson } from './page-config';

const assets: SearchPageAssets = { script: async () => 'console.log("page")', style: () => 'body{}' };
const app = (auth = false) => createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger, searchPage: assets, ...(auth ? { auth: { mode: 'keys', authenticator: {} as never } } : {}) });

describe('the search page routes', () => {
  it('serves the page with a CSP that allows only this origin, and the page config of the pipeline', async () => {
    const res = await request(app().callback()).get('/ui');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    const config = JSON.parse(/<script type="application\/json" id="search-config">(.*?)<\/script>/.exec(res.text)![1]!);
    expect(config).toEqual({ auth: false, indexes: [{ name: 'books', facets: ['author', 'genre', 'year', 'in_print'], sorts: ['title', 'year', 'price', 'published'], titleField: 'title', detailFields: ['author', 'genre', 'year', 'in_print'] }] });
  });

  it('is open with API keys on (it holds no data) and says a key is needed', async () => {
    const http = request(app(true).callback());
    for (const path of ['/ui', '/ui/search.js', '/ui/search.css']) expect([path, (await http.get(path)).status]).toEqual([path, 200]);
    expect((await http.get('/ui')).text).toContain('"auth":true');
    expect((await http.get('/v1/indexes/books/search')).status).toBe(401);
  });

  it('puts JSON into the page so that no value can close the script element', () => {
    const text = inertJson({ name: '</script><script>alert(1)</script>&' });
    expect(text).not.toMatch(/[<>&]/);
    expect(JSON.parse(text)).toEqual({ name: '</script><script>alert(1)</script>&' });
  });

  it('documents its routes in /openapi.json when served', () => {
    const router = app().middleware.map((m) => (m as { router?: { stack: Layer[] } }).router).find(Boolean)!;
    const routed = router.stack.flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(l.path).replace(/:(\w+)/g, '{$1}')}`)).sort();
    const spec = buildOpenApi(testPipeline, { searchPage: true }) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths).flatMap(([p, item]) => Object.keys(item).filter((k) => ['get', 'post', 'put'].includes(k)).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(documented).toEqual(routed);
  });

  // That the page then loads nothing from another origin is checked in a browser (e2e/search-page.e2e.test.ts).
  it('bundles the page script from node_modules with esbuild, InstantSearch.js inside', async () => {
    const script = await buildSearchScript();
    expect(script.length).toBeGreaterThan(50_000);
    expect(script).toContain('ais-Hits');
    expect(script).toContain('/v1/indexes/');
  }, 60_000);
});
