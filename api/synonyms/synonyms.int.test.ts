import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApiIndex, softwareFixtures, type ApiIndex } from '../../e2e/support/api-index';
import { es, uniqueName } from '../../e2e/support/services';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { EsSearchBackend } from '../search/es-search-backend';
import { SynonymCache } from './synonym-cache';
import { EsSynonymStore } from './synonym-store';

/**
 * Synonyms added at runtime change search results against the real Elasticsearch with no
 * reindex: the rules are stored in an Elasticsearch index of their own and expanded at query
 * time. Two app instances share the store, as two API processes would.
 */
describe('query-time synonyms against Elasticsearch', () => {
  const elastic = es();
  const store = uniqueName('synonyms');
  let ix: ApiIndex;
  const instance = () => {
    const backend = new EsSearchBackend(elastic, { timeoutMs: 5000, cursorKeepAliveS: 60 });
    const synonyms = new SynonymCache(new EsSynonymStore(elastic, store), { refreshMs: 200 });
    return request(createApp({ pipeline: ix.pipeline, search: backend, metrics: createApiMetrics(), log: silentLogger, cursorSecret: 'test-secret-0123456789', synonyms }).callback());
  };
  const extra = [
    { id: 'tv1', title: 'Television Tennis', system: 'arcade', publisher: 'Magnavox', year: 1972, release_date: '1972-01-01', supported: 'yes' },
    { id: 'tv2', title: 'TV Sports Football', system: 'pce', publisher: 'Cinemaware', year: 1990, release_date: '1990-01-01', supported: 'yes' },
    { id: 'nb1', title: 'Notebook Adventure', system: 'pc', publisher: 'Acme', year: 1995, release_date: '1995-01-01', supported: 'yes' },
    { id: 'lp1', title: 'Laptop Quest', system: 'pc', publisher: 'Acme', year: 1996, release_date: '1996-01-01', supported: 'yes' },
  ];
  const ids = async (http: ReturnType<typeof request>, q: string) => {
    const res = await http.get(ix.path('search')).query({ q, fuzzy: false, size: 50 });
    expect(res.status).toBe(200);
    return res.body.hits.map((h: { id: string }) => h.id).sort();
  };

  beforeAll(async () => {
    ix = await createApiIndex(elastic, [...softwareFixtures(), ...extra]);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.indices.delete({ index: store }, { ignore: [404] });
    await elastic.close();
  });

  it('applies rules stored through the admin endpoint at once, on every instance, without a reindex', async () => {
    const a = instance();
    const b = instance();
    const before = await elastic.indices.getAlias({ name: ix.spec.name });
    expect(await ids(a, 'tv')).toEqual(['tv2']);
    expect(await ids(b, 'laptop')).toEqual(['lp1']);

    const put = await a.put(ix.path('synonyms')).send({ rules: ['tv => television', 'laptop, notebook'] });
    expect(put.status).toBe(200);

    expect(await ids(a, 'tv')).toEqual(['tv1', 'tv2']); // this instance: at once
    expect(await ids(a, 'television')).toEqual(['tv1']); // one-way
    expect(await ids(a, 'notebook')).toEqual(['lp1', 'nb1']); // multi-way
    expect(await ids(a, 'laptop quest')).toEqual(['lp1']); // other words still required
    // The other instance re-reads the store within its refresh interval (200 ms here).
    await new Promise((r) => setTimeout(r, 250));
    await ids(b, 'laptop'); // starts the re-read
    await new Promise((r) => setTimeout(r, 100));
    expect(await ids(b, 'laptop')).toEqual(['lp1', 'nb1']);

    // Same concrete index behind the alias: nothing was reindexed.
    expect(await elastic.indices.getAlias({ name: ix.spec.name })).toEqual(before);
    expect((await a.get(ix.path('synonyms'))).body.rules).toEqual(['tv => television', 'laptop, notebook']);

    await a.put(ix.path('synonyms')).send({ rules: [] });
    expect(await ids(a, 'tv')).toEqual(['tv2']);
  });
});
