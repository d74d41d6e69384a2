import type { Client } from '@elastic/elasticsearch';
import request from 'supertest';
import { parsePipelineConfig, type IndexSpec } from '../config/pipeline';
import { silentLogger } from '../core/logger';
import { createApp } from '../api/app';
import { EsPositionsSource } from '../api/freshness/positions-source';
import { WatermarkCache } from '../api/freshness/watermark-cache';
import { topicFor } from '../core/change-event';
import { ensureStateIndex, publishPositions } from '../core/watermark-store';
import { sourceTables } from '../config/pipeline';
import { dropStateDocs } from './support/indexer-harness';
import { createApiMetrics } from '../api/metrics';
import { EsSearchBackend } from '../api/search/es-search-backend';
import { ordersConfig } from '../api/testing/orders-index';
import { concreteIndexName, ensureIndex } from '../indexer/mappings';
import { es, uniqueName } from './support/services';

/**
 * The API over joined documents in the real Elasticsearch, with the indexer's own mapping of the
 * relations (object, nested, two nested levels, nested: false) and hand-written documents in the
 * shape docs/joined-documents.md describes, `_refs` included. Here and not under api/ because it
 * uses the indexer's mapping builder, which api/ may not import (layering.test.ts): a copy of the
 * mapping could drift from what the indexer writes.
 */
const ref = (table: string, id: number) => `shop.${table}:{"id":${id}}`;
const docs: Array<Record<string, unknown> & { id: string }> = [
  {
    id: '1', number: 'A-1', status: 'paid', total: 30, placed_at: '2024-01-10T10:00:00Z',
    customer: { name: 'Ada Lovelace', country: 'fr' },
    items: [
      { qty: 2, product: { title: 'Toy car', category: 'toys' }, discounts: [{ code: 'X' }] },
      { qty: 1, product: { title: 'Dune', category: 'books' }, discounts: [] },
    ],
    tags: [{ label: 'gift' }],
    _refs: [ref('orders', 1), ref('customers', 1), ref('items', 1), ref('items', 2), ref('products', 1), ref('products', 2)],
  },
  {
    id: '2', number: 'A-2', status: 'paid', total: 50, placed_at: '2024-02-10T10:00:00Z',
    customer: { name: 'Grace Hopper', country: 'us' },
    items: [
      { qty: 1, product: { title: 'Toy boat', category: 'toys' }, discounts: [] },
      { qty: 3, product: { title: 'Toy train', category: 'toys' }, discounts: [{ code: 'Y' }] },
    ],
    tags: [],
    _refs: [ref('orders', 2), ref('customers', 2), ref('items', 3), ref('items', 4)],
  },
  {
    id: '3', number: 'A-3', status: 'open', total: 20, placed_at: '2024-03-10T10:00:00Z',
    customer: { name: 'Alan Turing', country: 'fr' },
    items: [{ qty: 5, product: { title: 'Emma', category: 'books' }, discounts: [] }],
    tags: [{ label: 'gift' }, { label: 'rush' }],
    _refs: [ref('orders', 3), ref('customers', 3), ref('items', 5)],
  },
  {
    id: '4', number: 'A-4', status: 'open', total: 5, placed_at: '2024-04-10T10:00:00Z',
    customer: { name: 'Marie Curie', country: 'fr' },
    items: [],
    tags: [],
    _refs: [ref('orders', 4), ref('customers', 4)],
  },
];

describe('API over joined documents against Elasticsearch', () => {
  const elastic: Client = es();
  const name = uniqueName('api_orders');
  const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [name]: ordersConfig.indexes.orders } }));
  const spec = pipeline.indexes[0] as IndexSpec;
  const metrics = createApiMetrics();
  const app = createApp({ pipeline, search: new EsSearchBackend(elastic, { timeoutMs: 5000, cursorKeepAliveS: 60 }), metrics, log: silentLogger, cursorSecret: 'test-secret-0123456789' });
  const http = request(app.callback());
  const get = (route: string, query: Record<string, string | number>) => http.get(`/v1/indexes/${name}/${route}`).query(query);
  const numbers = async (query: Record<string, string | number>) => {
    const res = await get('search', { size: 50, ...query });
    expect(res.status).toBe(200);
    return res.body.hits.map((h: { document: { number: string } }) => h.document.number);
  };
  const sorted = async (query: Record<string, string | number>) => (await numbers(query)).sort();

  beforeAll(async () => {
    await ensureIndex(elastic, spec);
    const res = await elastic.bulk({ refresh: true, operations: docs.flatMap(({ id, ...doc }) => [{ index: { _index: name, _id: id } }, doc]) });
    if (res.errors) throw new Error(`fixture bulk failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
  });
  afterAll(async () => {
    await elastic.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] });
    await dropStateDocs(elastic, name).catch(() => undefined);
    await elastic.close();
  });

  it('finds the root by the text of a nested relation, and highlights it', async () => {
    const res = await get('search', { q: 'car' });
    expect(res.body.hits.map((h: any) => h.document.number)).toEqual(['A-1']);
    expect(res.body.hits[0].highlight['items.product.title']).toEqual(['Toy <mark>car</mark>']);
    expect(await sorted({ q: 'toy' })).toEqual(['A-1', 'A-2']);
    // All words within one item: no item is a "toy emma".
    expect(await sorted({ q: 'toy emma', fuzzy: 'false' })).toEqual([]);
    expect(await sorted({ q: 'X' })).toEqual(['A-1']); // two nested levels: a discount code
  });

  it('finds the root by the text of an object relation, with its boost', async () => {
    const res = await get('search', { q: 'ada' });
    expect(res.body.hits.map((h: any) => h.document.number)).toEqual(['A-1']);
    expect(res.body.hits[0].highlight['customer.name']).toEqual(['<mark>Ada</mark> Lovelace']);
  });

  it('filters on nested fields: conditions on one nested relation hold within one item', async () => {
    expect(await sorted({ filter: 'items.product.category:toys' })).toEqual(['A-1', 'A-2']);
    // A-1 has a book and an item bought twice, but not a book bought twice.
    expect(await sorted({ filter: 'items.product.category:books items.qty:2..' })).toEqual(['A-3']);
    expect(await sorted({ filter: 'items.qty:2.. items.discounts.code:X' })).toEqual(['A-1']);
    expect(await sorted({ filter: 'items.qty:3.. items.discounts.code:X' })).toEqual([]);
    expect(await sorted({ filter: '-items.product.category:toys' })).toEqual(['A-3', 'A-4']);
  });

  it('filters on object relations, and on arrays mapped as objects', async () => {
    expect(await sorted({ filter: 'customer.country:fr' })).toEqual(['A-1', 'A-3', 'A-4']);
    expect(await sorted({ filter: 'customer.country:fr tags.label:gift' })).toEqual(['A-1', 'A-3']);
  });

  it('counts roots in facets on object and nested fields', async () => {
    const res = await get('search', { facets: 'customer.country,items.product.category,tags.label' });
    expect(res.body.facets).toEqual({
      'customer.country': [{ value: 'fr', count: 3 }, { value: 'us', count: 1 }],
      // A-2 holds two toys and counts once.
      'items.product.category': [{ value: 'books', count: 2 }, { value: 'toys', count: 2 }],
      'tags.label': [{ value: 'gift', count: 2 }, { value: 'rush', count: 1 }],
    });
  });

  it('refines nested facets: a facet\'s own clause narrows the hits, not its counts, which still count roots', async () => {
    const res = await get('search', { filter: 'items.product.category:toys', facets: 'items.product.category,status', size: 50 });
    expect(res.body.hits.map((h: any) => h.document.number).sort()).toEqual(['A-1', 'A-2']);
    expect(res.body.total).toBe(2);
    expect(res.body.facets).toEqual({
      'items.product.category': [{ value: 'books', count: 2 }, { value: 'toys', count: 2 }],
      status: [{ value: 'paid', count: 2 }],
    });
    // A-1 has a book and an item bought twice, but not a book bought twice: still within one item.
    const one = await get('search', { filter: 'items.product.category:books items.qty:2..', facets: 'items.product.category', size: 50 });
    expect(one.body.hits.map((h: any) => h.document.number)).toEqual(['A-3']);
    // The category facet counts under items.qty:2.. alone (A-1, A-2, A-3), by their items' categories.
    expect(one.body.facets['items.product.category']).toEqual([{ value: 'books', count: 2 }, { value: 'toys', count: 2 }]);
  });

  it('sorts by object and nested fields, and pages a nested sort with cursors', async () => {
    expect(await numbers({ sort: 'customer.name' })).toEqual(['A-1', 'A-3', 'A-2', 'A-4']);
    expect(await numbers({ sort: '-items.qty' })).toEqual(['A-3', 'A-2', 'A-1', 'A-4']);
    const first = await get('search', { sort: '-items.qty', size: 2, cursor: 'start' });
    expect(first.body.hits.map((h: any) => h.document.number)).toEqual(['A-3', 'A-2']);
    const second = await get('search', { sort: '-items.qty', size: 2, cursor: first.body.cursor });
    expect(second.body.hits.map((h: any) => h.document.number)).toEqual(['A-1', 'A-4']);
  });

  it('groups analytics by object and nested fields, nested buckets counting roots', async () => {
    const byCountry = await get('analytics', { groupBy: 'customer.country', metrics: 'count,sum(total)' });
    expect(byCountry.body.groups).toEqual([
      { key: { 'customer.country': 'fr' }, count: 3, metrics: { count: 3, 'sum(total)': 55 } },
      { key: { 'customer.country': 'us' }, count: 1, metrics: { count: 1, 'sum(total)': 50 } },
    ]);
    const byCategory = await get('analytics', { groupBy: 'items.product.category', metrics: 'count,sum(items.qty),sum(total)' });
    expect(byCategory.status).toBe(200);
    expect(byCategory.body.total).toBe(4);
    expect(byCategory.body.groups).toEqual([
      { key: { 'items.product.category': 'books' }, count: 2, metrics: { count: 2, 'sum(items.qty)': 6, 'sum(total)': 50 } },
      { key: { 'items.product.category': 'toys' }, count: 2, metrics: { count: 2, 'sum(items.qty)': 6, 'sum(total)': 80 } },
    ]);
    expect((await get('analytics', { metrics: 'sum(items.qty),cardinality(items.discounts.code)' })).body.metrics).toEqual({ 'sum(items.qty)': 12, 'cardinality(items.discounts.code)': 2 });
  });

  it('pages composite nested groups and estimates nested histograms', async () => {
    const first = await get('analytics', { groupBy: 'items.product.category', composite: 'true', groupSize: 1 });
    expect(first.body.groups).toEqual([{ key: { 'items.product.category': 'books' }, count: 2, metrics: { count: 2 } }]);
    const second = await get('analytics', { groupBy: 'items.product.category', composite: 'true', groupSize: 1, after: first.body.after });
    expect(second.body.groups).toEqual([{ key: { 'items.product.category': 'toys' }, count: 2, metrics: { count: 2 } }]);
    const hist = await get('analytics', { groupBy: 'items.qty:2' });
    expect(hist.body.groups.map((g: any) => [g.key['items.qty'], g.count])).toEqual([[0, 2], [2, 2], [4, 1]]);
    const tooMany = await get('analytics', { groupBy: 'items.qty:0.001' });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'TOO_MANY_BUCKETS']);
  });

  it('never shows _refs: not in hits, document lookups or cursors', async () => {
    const search = await get('search', { q: 'toy', cursor: 'start', size: 1 });
    const lookup = await get('documents/1', {});
    expect(lookup.status).toBe(200);
    expect(lookup.body.document).toMatchObject({ number: 'A-1', customer: { country: 'fr' } });
    expect(search.body.hits[0].document.items).toBeDefined();
    for (const text of [JSON.stringify(search.body), JSON.stringify(lookup.body), Buffer.from(String(search.body.cursor).split('.')[0] as string, 'base64url').toString()]) {
      expect(text).not.toContain('_refs');
      expect(text).not.toContain('shop.');
    }
  });

  it('answers an unknown path with a 400 naming it and the allowed paths', async () => {
    const filter = await get('search', { filter: 'items.product.colour:red' });
    expect([filter.status, filter.body.error.code]).toEqual([400, 'FILTER_FIELD_NOT_ALLOWED']);
    expect(filter.body.error.message).toContain('"items.product.colour" is not a filterable field');
    expect(filter.body.error.message).toContain('items.product.category');
    const group = await get('analytics', { groupBy: '_refs' });
    expect([group.status, group.body.error.code]).toEqual([400, 'ANALYTICS_FIELD_NOT_ALLOWED']);
    const refs = await get('search', { filter: '_refs:x' });
    expect([refs.status, refs.body.error.code]).toEqual([400, 'FILTER_INVALID']);
  });

  it('answers a read-your-writes request (minLsn) as stale until the related tables\' partitions passed it, not only the root\'s', async () => {
    // The indexer's positions in the real state index: the root topic (orders) past LSN 300, the
    // items topic still at 100 — a change of an item committed at 200 is not searchable yet.
    const prefix = uniqueName('ryw');
    const [root, ...related] = sourceTables(spec).map((t) => topicFor(prefix, t));
    const publish = (itemsLsn: bigint) => publishPositions(elastic, [root!, ...related].flatMap((topic) => [0, 1].map((partition) => ({
      index: name, topic, partition, partitions: 2, lsn: topic.endsWith('.items') ? itemsLsn : 300n, dataMark: `${topic}.${itemsLsn}`,
    }))));
    await ensureStateIndex(elastic);
    await publish(100n);
    const watermarks = new WatermarkCache(new EsPositionsSource(elastic, prefix), { refreshMs: 50, log: silentLogger });
    const ryw = request(createApp({ pipeline, search: new EsSearchBackend(elastic, { timeoutMs: 5000, cursorKeepAliveS: 60 }), metrics: createApiMetrics(), log: silentLogger, watermarks, consistencyWaitMs: 300 }).callback());
    try {
      expect(related.some((t) => t.endsWith('.items'))).toBe(true);
      const before = await ryw.get(`/v1/indexes/${name}/search`).query({ q: 'toy', minLsn: '200' });
      expect([before.status, before.body.stale, before.body.asOf?.lsn]).toEqual([200, true, '100']);
      await publish(250n);
      const after = await ryw.get(`/v1/indexes/${name}/search`).query({ q: 'toy', minLsn: '200' });
      expect([after.status, after.body.stale, after.body.asOf?.lsn]).toEqual([200, false, '250']);
    } finally {
      watermarks.close();
    }
  });
});
