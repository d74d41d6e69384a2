import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { parsePipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { aliasTarget } from '../indexer/reindex/generations';
import { reindex } from '../indexer/reindex/reindex';
import { quiesce, testPipeline } from '../ingest/test-support/harness';
import { allDocs } from './support/indexer-harness';
import { joinedModel } from './support/joined-model';
import { es, eventually, pg } from './support/services';
import { startJoinedRun, type TestIndexer } from './support/test-indexer';

/**
 * Documents that span tables, three levels deep and of every relation kind: an order with its
 * customer (many-to-one), its shipping (one-to-one on a composite key), its items (one-to-many on a
 * composite key, items with a composite primary key), each item with its product (many-to-one),
 * and its tags (many-to-many through a join table). A random workload on every table (foreign-key
 * moves of items, shipping rows and links between orders, child deletes, root deletes, links
 * inserted and deleted, shared customers, products and tags renamed, truncates of the items and the
 * through table) must leave every document equal to what one SQL query computes from Postgres:
 * missing, extra and stale all 0. The expected documents are built by the hand-written SQL of
 * support/joined-model.ts, not by the product's code.
 */
describe('joined documents under changes to every table', () => {
  const m = joinedModel();
  const { index, customers, orders, items } = m;
  let db: Client;
  let client: EsClient;
  let p: ReturnType<typeof testPipeline>;
  let indexer: TestIndexer;
  let run: ReturnType<ReturnType<typeof testPipeline>['start']>;
  let joined: Awaited<ReturnType<typeof startJoinedRun>> | undefined;
  const randomWrite = (): Promise<void> => m.randomWrite(db);
  const consistent = async (): Promise<void> => {
    await quiesce(db, p.slot);
    await eventually(async () => {
      const v = await m.verdict(db, client);
      return v.missing.length + v.extra.length + v.stale.length === 0 ? true : undefined;
    }, 'every joined document equal to what SQL computes', 90_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await m.verdict(db, client))}`);
    });
  };

  beforeAll(async () => {
    db = await pg();
    client = es();
    joined = await startJoinedRun(m, db, client, { env: { INDEXER_JOIN_BATCH_KEYS: '7' } });
    ({ p, run, indexer } = joined);
  });

  afterAll(async () => {
    await joined?.close();
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
    await m.moveItem(db, 1, 1); // from order 2 (both columns of the composite foreign key change)
    await db.query(`DELETE FROM ${items} WHERE id = 3`); // of order 4
    await consistent();
    const docs = await allDocs(client, index);
    const itemsOf = (id: string) => (JSON.parse(docs.get(id)!.source) as { items: unknown[] }).items.length;
    expect([itemsOf('1'), itemsOf('2'), itemsOf('4')]).toEqual([5, 3, 3]);
  });

  it('many-to-many: a link inserted, moved and deleted in the through table, a tag renamed, the through table truncated', async () => {
    const tagsOf = async (id: string) => (JSON.parse((await allDocs(client, index)).get(id)!.source) as { tags: Array<{ label: string }> }).tags.map((t) => t.label);
    // Order 1 holds tags 8 and 1 (labels "tag 0" and "tag 7"), order 2 tags 7 and 8.
    expect(await tagsOf('1')).toEqual(['tag 0', 'tag 7']);
    await db.query(`INSERT INTO ${m.orderTags} VALUES (1, 3)`);
    await db.query(`UPDATE ${m.orderTags} SET order_id = 4 WHERE order_id = 2 AND tag_id = 7`); // the link's primary key changes
    await db.query(`DELETE FROM ${m.orderTags} WHERE order_id = 1 AND tag_id = 8`);
    await db.query(`UPDATE ${m.tags} SET label = 'a first' WHERE id = 1`); // in many documents, and first by label now
    await consistent();
    expect(await tagsOf('1')).toEqual(['a first', 'tag 5']);
    expect(await tagsOf('2')).toEqual(['tag 0']);
    await db.query(`TRUNCATE ${m.orderTags}`);
    await consistent();
    expect([...(await allDocs(client, index)).values()].filter((d) => (JSON.parse(d.source) as { tags: unknown[] }).tags.length)).toEqual([]);
    await db.query(`INSERT INTO ${m.orderTags} SELECT o, 1 + o % 8 FROM generate_series(1, 50) o`);
    await consistent();
  });

  it('one-to-one on a composite key: a shipping row inserted, moved to another order, deleted; an order changing region leaves it', async () => {
    const shippingOf = async (id: string) => (JSON.parse((await allDocs(client, index)).get(id)!.source) as { shipping: { carrier: string } | null }).shipping;
    expect(await shippingOf('3')).toBeNull();
    await db.query(`INSERT INTO ${m.shipping} VALUES ('us', 3, 'fedex')`);
    await db.query(`UPDATE ${m.shipping} SET order_region = 'eu', order_id = 6 WHERE order_id = 4`); // key change: 4 loses it, 6 had none
    await db.query(`DELETE FROM ${m.shipping} WHERE order_id = 5`);
    await db.query(`UPDATE ${orders} SET region = 'eu' WHERE id = 7`); // its shipping and items are in region us
    await consistent();
    expect([await shippingOf('3'), await shippingOf('4'), await shippingOf('5'), await shippingOf('6'), await shippingOf('7')])
      .toEqual([{ carrier: 'fedex' }, null, null, { carrier: 'ups' }, null]);
    expect((JSON.parse((await allDocs(client, index)).get('7')!.source) as { items: unknown[] }).items).toEqual([]);
  });

  it('random changes to every table, foreign-key moves included, leave every document as SQL computes it', async () => {
    for (let i = 0; i < 300; i++) await randomWrite();
    await consistent();
    expect(indexer.fatal).toEqual([]);
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
    expect((await indexer.metrics.joinFanOut.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBeGreaterThan(0);
  });

  it('a truncate of the items table empties every document\'s items, and later items come back', async () => {
    await db.query(`TRUNCATE ${items}`);
    await consistent();
    await db.query(`INSERT INTO ${items} VALUES ('r1', 5000, 'us', 1, 1, 3)`); // order 1 is in region us
    await consistent();
    for (let i = 0; i < 100; i++) await randomWrite();
    await consistent();
    expect(indexer.fatal).toEqual([]);
  });

  it('a column of a related table dropped under writes: every document loses that field, loudly', async () => {
    await db.query(`ALTER TABLE ${m.products} DROP COLUMN category`);
    // Writes under the DDL to every table but the column that is gone.
    for (let i = 0; i < 30; i++) {
      await db.query(`UPDATE ${items} SET qty = qty + 1, product_id = $1 WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`, [1 + (i % 10)]);
      await db.query(`UPDATE ${m.products} SET title = title || '!' WHERE id = $1`, [1 + (i % 10)]);
      await db.query(`UPDATE ${orders} SET customer_id = $1 WHERE id = $2`, [1 + (i % 5), 1 + i]);
    }
    await run.ingest.snapshotDone(); // ingest copies the root table again
    await consistent();
    const docs = [...(await allDocs(client, index)).values()].map((d) => JSON.parse(d.source) as { items: Array<{ product: Record<string, unknown> | null }> });
    expect(docs.flatMap((d) => d.items).filter((i) => i.product && 'category' in i.product)).toEqual([]);
    expect(run.ingest.problems()).toEqual([{ problem: 'column_missing', table: `public.${m.products}`, column: 'category', index, field: 'items.product.category' }]);
    expect(indexer.fatal).toEqual([]);
  });

  it('a reindex replaying every topic from offset 0 rebuilds the same documents into a new generation', async () => {
    await quiesce(db, p.slot);
    await run.ingest.close(); // a quiet topic lets the reindex find its cut (heartbeats would keep moving the end)
    // After the column was dropped (the test before), the operator takes the field out of the config, as the error line said.
    const fixed = JSON.parse(JSON.stringify(m.pipeline)) as typeof m.pipeline;
    delete (fixed.indexes[index]!.relations.items.relations.product.fields as Record<string, unknown>).category;
    const result = await reindex({ config: indexer.config, pipeline: parsePipelineConfig(JSON.stringify(fixed)), kafka: createKafka(indexer.config.kafkaBrokers, 'reindex-test', silentLogger), es: client, log: silentLogger }, index);
    expect(result.to).toBe(`${index}_v2`);
    expect(await aliasTarget(client, index)).toBe(`${index}_v2`);
    const v = await m.verdict(db, client);
    expect({ missing: v.missing.length, extra: v.extra.length, stale: v.stale.length, examples: v.examples }).toEqual({ missing: 0, extra: 0, stale: 0, examples: [] });
    expect(indexer.fatal).toEqual([]);
  });
});
