import { Client } from '@elastic/elasticsearch';
import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApiIndex, softwareFixtures, type ApiIndex } from '../../e2e/support/api-index';
import { EsFaultProxy } from '../../e2e/support/es-fault-proxy';
import { env, es } from '../../e2e/support/services';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { EsSearchBackend } from './es-search-backend';

/**
 * Every Elasticsearch call of the API is bounded by API_QUERY_TIMEOUT_MS, also the ones that are
 * not the search itself (opening a cursor's point in time, a histogram's bucket estimate, the
 * readiness check): with Elasticsearch paused behind the fault proxy, answers are 503s with
 * Retry-After within about the timeout, and /readyz says not ready.
 */
describe('Elasticsearch calls are bounded when it hangs', () => {
  const elastic = es();
  const timeoutMs = 300;
  let ix: ApiIndex;
  let proxy: EsFaultProxy;
  let client: Client;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    ix = await createApiIndex(elastic, softwareFixtures());
    proxy = await new EsFaultProxy(env('ELASTICSEARCH_URL')).start();
    client = new Client({ node: proxy.url });
    const backend = new EsSearchBackend(client, { timeoutMs, cursorKeepAliveS: 60 });
    http = request(createApp({ pipeline: ix.pipeline, search: backend, metrics: createApiMetrics(), log: silentLogger }).callback());
  });
  afterEach(() => proxy.heal());
  afterAll(async () => {
    await proxy?.close();
    await client?.close();
    await ix?.drop();
    await elastic.close();
  });

  const timed = async (req: request.Test) => {
    const start = Date.now();
    const res = await req;
    return { res, ms: Date.now() - start };
  };
  // Elasticsearch's own `timeout` plus the client's margin for the answer to travel: well below the 40 s pause.
  const bound = timeoutMs + 1000 + 1500;

  it.each([
    ['search with cursor=start', { q: 'zelda', cursor: 'start' }, 'search'],
    ['search', { q: 'zelda' }, 'search'],
    ['histogram analytics (bucket estimate)', { groupBy: 'year:1' }, 'analytics'],
    ['suggest', { q: 'zel' }, 'suggest'],
  ])('%s answers 503 SEARCH_UNAVAILABLE with Retry-After', async (_, query, route) => {
    expect((await http.get(ix.path(route)).query(query)).status).toBe(200);
    proxy.hang();
    const { res, ms } = await timed(http.get(ix.path(route)).query(query));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SEARCH_UNAVAILABLE');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(bound);
  });

  it('document lookups are bounded too', async () => {
    proxy.hang();
    const { res, ms } = await timed(http.get(ix.path('documents/1')));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(bound);
  });

  it('/readyz is 503 with Retry-After while Elasticsearch cannot answer, 200 again after', async () => {
    expect((await http.get('/readyz')).status).toBe(200);
    proxy.hang();
    const { res, ms } = await timed(http.get('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('NOT_READY');
    expect(res.headers['retry-after']).toBeDefined();
    expect(ms).toBeLessThan(bound);
    await proxy.heal();
    expect((await http.get('/readyz')).status).toBe(200);
  });
});
