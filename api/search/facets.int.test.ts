import { createApiIndex, softwareFixtures, type ApiIndex } from '../../e2e/support/api-index';
import { es } from '../../e2e/support/services';

/**
 * Refinement facets against the real Elasticsearch: the post_filter and the per-facet filter
 * aggregations (facet-refinement.ts) must give every value of a filtered facet the count it
 * would give, while hits, total and the other facets follow all filters.
 */
describe('refinement facets against Elasticsearch', () => {
  const elastic = es();
  const docs = softwareFixtures();
  let ix: ApiIndex;
  const count = (pred: (d: Record<string, unknown>) => boolean) => docs.filter(pred).length;
  const bySystem = (pred: (d: Record<string, unknown>) => boolean = () => true) => {
    const out: Record<string, number> = {};
    for (const d of docs.filter(pred)) out[d.system as string] = (out[d.system as string] ?? 0) + 1;
    return out;
  };
  const asMap = (buckets: Array<{ value: string; count: number }>) => Object.fromEntries(buckets.map((b) => [b.value, b.count]));

  beforeAll(async () => {
    ix = await createApiIndex(elastic, docs);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.close();
  });

  it('lists every value of a filtered facet with its own count; hits follow the filter', async () => {
    const res = await ix.http.get(ix.path('search')).query({ filter: 'system:nes', facets: 'system,supported', size: 100 });
    expect(res.status).toBe(200);
    expect(asMap(res.body.facets.system)).toEqual(bySystem());
    expect(res.body.total).toBe(count((d) => d.system === 'nes'));
    expect(res.body.hits.every((h: { document: { system: string } }) => h.document.system === 'nes')).toBe(true);
    // supported is not filtered on: it counts within the nes hits.
    const supported = asMap(res.body.facets.supported);
    expect(supported.partial).toBe(count((d) => d.system === 'nes' && d.supported === 'partial'));
  });

  it('counts a facet under the other facets’ filters and the query, not its own', async () => {
    const res = await ix.http.get(ix.path('search')).query({ q: 'zelda', fuzzy: false, filter: 'system:snes supported:yes', facets: 'system,supported' });
    const isZelda = (d: Record<string, unknown>) => /zelda/i.test(d.title as string);
    expect(asMap(res.body.facets.system)).toEqual(bySystem((d) => isZelda(d) && d.supported === 'yes'));
    expect(asMap(res.body.facets.supported)).toEqual({ yes: count((d) => isZelda(d) && d.system === 'snes') });
    expect(res.body.total).toBe(count((d) => isZelda(d) && d.system === 'snes' && d.supported === 'yes'));
  });

  it('keeps a filter on a field not asked as a facet in the main query', async () => {
    const res = await ix.http.get(ix.path('search')).query({ filter: 'system:nes year:..1986', facets: 'supported' });
    expect(res.body.total).toBe(count((d) => d.system === 'nes' && (d.year as number) <= 1986));
    expect(asMap(res.body.facets.supported)).toEqual({ yes: res.body.total });
  });
});
