import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { quiesce, testPipeline } from '../ingest/test-support/harness';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { es, eventually, kafka, pg, uniqueName } from './support/services';

/**
 * Documents that span tables, three levels deep: an order with its customer (many-to-one) and its
 * items (one-to-many), each item with its product (many-to-one). A random workload on every table
 * (foreign-key moves of items between orders, child deletes, root deletes, a shared customer and
 * product renamed, a truncate of the items table) must leave every document equal to what one SQL
 * query computes from Postgres: missing, extra and stale all 0. The expected documents are built
 * by the SQL below, not by the product's code.
 */
describe('joined documents under changes to every table', () => {
  const prefix = uniqueName('j');
  const [customers, orders, items, products] = ['customers', 'orders', 'items', 'products'].map((t) => `${prefix}_${t}`) as [string, string, string, string];
  const index = uniqueName('orders');
  let db: Client;
  let client: EsClient;
  let p: ReturnType<typeof testPipeline>;
  let indexer: ReturnType<typeof createIndexer>;
  let metrics: ReturnType<typeof createIndexerMetrics>;
  let groupId: string;
  const fatal: unknown[] = [];
  const pipeline = {
    version: 1,
    indexes: {
      [index]: {
        table: orders,
        fields: { number: { type: 'keyword', searchable: true } },
        relations: {
          customer: { table: customers, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true }, country: { type: 'keyword', filterable: true } } },
          items: {
            table: items, kind: 'one-to-many', on: { id: 'order_id' }, orderBy: [{ column: 'id' }],
            fields: { qty: { type: 'integer' } },
            relations: { product: { table: products, kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text', searchable: true }, category: { type: 'keyword', filterable: true } } } },
          },
        },
      },
    },
  };

  /** Every order's document as SQL computes it, `_refs` aside (that is the pipeline's own bookkeeping). */
  async function expectedDocs(): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: number; doc: unknown }>(`
      SELECT o.id, jsonb_build_object(
        'number', o.number,
        'customer', (SELECT jsonb_build_object('name', c.name, 'country', c.country) FROM ${customers} c WHERE c.id = o.customer_id),
        'items', coalesce((SELECT jsonb_agg(jsonb_build_object('qty', i.qty,
                     'product', (SELECT jsonb_build_object('title', p.title, 'category', p.category) FROM ${products} p WHERE p.id = i.product_id)) ORDER BY i.id)
                   FROM ${items} i WHERE i.order_id = o.id), '[]'::jsonb)) AS doc
      FROM ${orders} o`);
    return new Map(rows.map((r) => [String(r.id), canonical(r.doc)]));
  }
  /** Key order does not matter, array order does. */
  const canonical = (v: unknown): string => JSON.stringify(sortKeys(v));
  const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== '_refs').sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)])) : v);

  async function verdict(): Promise<{ missing: string[]; extra: string[]; stale: string[]; examples: string[] }> {
    const want = await expectedDocs();
    const got = await allDocs(client, index);
    const missing = [...want.keys()].filter((id) => !got.has(id));
    const extra = [...got.keys()].filter((id) => !want.has(id));
    const stale = [...want].filter(([id, doc]) => got.has(id) && canonical(JSON.parse(got.get(id)!.source)) !== doc).map(([id]) => id);
    return { missing, extra, stale, examples: stale.slice(0, 3).map((id) => `${id}: want ${want.get(id)} got ${got.get(id)!.source}`) };
  }
  const consistent = async (): Promise<void> => {
    await quiesce(db, p.slot);
    await eventually(async () => {
      const v = await verdict();
      return v.missing.length + v.extra.length + v.stale.length === 0 ? true : undefined;
    }, 'every joined document equal to what SQL computes', 90_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await verdict())}`);
    });
  };

  const rnd = (n: number): number => 1 + Math.floor(Math.random() * n);
  let nextItem = 1000;
  let nextOrder = 1000;
  /** One random write to one of the four tables. */
  async function randomWrite(): Promise<void> {
    const r = Math.random();
    if (r < 0.2) await db.query(`UPDATE ${items} SET order_id = $1 WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`, [rnd(60)]); // a child moves between documents
    else if (r < 0.3) await db.query(`DELETE FROM ${items} WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`);
    else if (r < 0.45) await db.query(`INSERT INTO ${items} VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [nextItem++, rnd(60), rnd(10), rnd(9)]);
    else if (r < 0.55) await db.query(`UPDATE ${items} SET qty = qty + 1, product_id = $1 WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`, [rnd(10)]);
    else if (r < 0.62) await db.query(`DELETE FROM ${orders} WHERE id = $1`, [rnd(60)]); // a root goes (its items stay, pointing nowhere)
    else if (r < 0.7) await db.query(`INSERT INTO ${orders} VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [rnd(60), `N-${nextOrder++}`, rnd(5)]);
    else if (r < 0.78) await db.query(`UPDATE ${orders} SET customer_id = $1 WHERE id = $2`, [rnd(5), rnd(60)]);
    else if (r < 0.86) await db.query(`UPDATE ${customers} SET name = name || '+' WHERE id = $1`, [rnd(5)]); // a shared parent renamed
    else if (r < 0.94) await db.query(`UPDATE ${products} SET title = title || '*', category = $2 WHERE id = $1`, [rnd(10), ['toys', 'books', 'games'][rnd(3) - 1]]);
    else await db.query(`BEGIN; UPDATE ${customers} SET country = 'xx' WHERE id = $1; UPDATE ${items} SET qty = 0 WHERE order_id = $1; COMMIT`.replace(/\$1/g, String(rnd(5))));
  }

  beforeAll(async () => {
    db = await pg();
    client = es();
    await db.query(`CREATE TABLE ${customers} (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL)`);
    await db.query(`CREATE TABLE ${products} (id int PRIMARY KEY, title text NOT NULL, category text NOT NULL)`);
    await db.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, number text NOT NULL, customer_id int)`);
    await db.query(`CREATE TABLE ${items} (id int PRIMARY KEY, order_id int, product_id int, qty int NOT NULL)`);
    await db.query(`INSERT INTO ${customers} SELECT i, 'customer ' || i, CASE WHEN i % 2 = 0 THEN 'fr' ELSE 'de' END FROM generate_series(1, 5) i`);
    await db.query(`INSERT INTO ${products} SELECT i, 'product ' || i, 'toys' FROM generate_series(1, 10) i`);
    await db.query(`INSERT INTO ${orders} SELECT i, 'N-' || i, 1 + i % 5 FROM generate_series(1, 50) i`);
    await db.query(`INSERT INTO ${items} SELECT i, 1 + i % 50, 1 + i % 10, i % 7 FROM generate_series(1, 200) i`);
    const json = JSON.stringify(pipeline);
    p = testPipeline(db, [orders, customers, items, products]);
    const run = p.start({}, { pipeline: json });
    await run.ingest.start();
    groupId = uniqueName('g');
    const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: p.prefix, INDEXER_GROUP_ID: groupId, INDEXER_WATERMARK_INTERVAL_MS: '100', INDEXER_JOIN_BATCH_KEYS: '7' });
    metrics = createIndexerMetrics();
    indexer = createIndexer({ config, pipeline: parsePipelineConfig(json), kafka: createKafka(config.kafkaBrokers, 'indexer-test', silentLogger), es: client, metrics, log: silentLogger, onFatal: (e) => void fatal.push(e) });
    await indexer.start();
    await run.ingest.snapshotDone();
  });

  afterAll(async () => {
    await indexer?.close();
    await p.cleanup();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [...[orders, customers, items, products].map((t) => p.topic(t)), `${p.prefix}.dead-letters`] }).catch(() => undefined);
    await admin.disconnect();
    await dropSearchIndex(client, index);
    await client.close();
    await db.end();
  });

  it('the snapshot builds every joined document', async () => {
    await consistent();
    const doc = JSON.parse((await allDocs(client, index)).get('1')!.source) as { customer: { name: string }; items: unknown[]; _refs: string[] };
    expect(doc.customer.name).toBe('customer 2');
    expect(doc.items).toHaveLength(4);
    expect(doc._refs).toContain(`public.${customers}:{"id":2}`);
  });

  it('a child moving to another order leaves the first one, and a deleted child leaves its order', async () => {
    // Postgres sends only the new row (default replica identity): the order it left is found by its _refs.
    await db.query(`UPDATE ${items} SET order_id = 1 WHERE id = 1`); // from order 2
    await db.query(`DELETE FROM ${items} WHERE id = 3`); // of order 4
    await consistent();
    const docs = await allDocs(client, index);
    const itemsOf = (id: string) => (JSON.parse(docs.get(id)!.source) as { items: unknown[] }).items.length;
    expect([itemsOf('1'), itemsOf('2'), itemsOf('4')]).toEqual([5, 3, 3]);
  });

  it('random changes to every table, foreign-key moves included, leave every document as SQL computes it', async () => {
    for (let i = 0; i < 300; i++) await randomWrite();
    await consistent();
    expect(fatal).toEqual([]);
  });

  it('a renamed customer shared by many orders rebuilds all of them, in batches', async () => {
    await db.query(`UPDATE ${orders} SET customer_id = 3`);
    await consistent();
    await db.query(`UPDATE ${customers} SET name = 'renamed once' WHERE id = 3`);
    await db.query(`UPDATE ${customers} SET name = 'renamed twice' WHERE id = 3`);
    await consistent();
    const names = [...(await allDocs(client, index)).values()].map((d) => (JSON.parse(d.source) as { customer: { name: string } }).customer.name);
    expect(new Set(names)).toEqual(new Set(['renamed twice']));
    // More documents than one rebuild batch (INDEXER_JOIN_BATCH_KEYS=7): counted as a fan-out.
    expect((await metrics.joinFanOut.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBeGreaterThan(0);
  });

  it('a truncate of the items table empties every document\'s items, and later items come back', async () => {
    await db.query(`TRUNCATE ${items}`);
    await consistent();
    await db.query(`INSERT INTO ${items} VALUES (5000, 1, 1, 3)`);
    await consistent();
    for (let i = 0; i < 100; i++) await randomWrite();
    await consistent();
    expect(fatal).toEqual([]);
  });
});
