import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import type { IndexSpec } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { dropSearchIndex } from '../../e2e/support/indexer-harness';
import { uniqueName } from '../../e2e/support/services';
import { ensureIndex } from '../mappings';
import type { EsDocumentSink } from '../sink/es-document-sink';
import { createJoinedSchema, type JoinedSchema } from '../../e2e/support/joined-schema';
import { checkRelations } from './check-relations';
import { createJoinedRebuilder, type JoinedRebuilderDeps } from './joined-rebuilder';
import type { RebuildRequest } from './rebuild-requests';

/**
 * A child row moving A -> B -> C while the index is not refreshed (refresh_interval -1): the
 * `_refs` search still shows the state before B got the row, so only the record of what this
 * process wrote (written-refs.ts) finds B when the row leaves it. The searches below show that no
 * refresh happened in between, so it is the record, not a refresh, that found B.
 */
describe('joined rebuilds find the documents they wrote before a refresh', () => {
  const schema = uniqueName('jw').replace(/-/g, '_');
  const index = uniqueName('jwdocs');
  let db: Client;
  let client: EsClient;
  let spec: IndexSpec;
  let sink: EsDocumentSink;
  let fixture: JoinedSchema;
  const origin = { topic: 't', partition: 0, offset: '0' };
  const item = (version: number): RebuildRequest => ({ index, kind: 'related', source: { schema, table: 'items' }, key: { id: 10 }, version: String(version), op: 'u', lsn: String(version), origin });
  const root = (id: number, version: number): RebuildRequest => ({ index, kind: 'root', source: { schema, table: 'orders' }, key: { id }, version: String(version), op: 'c', lsn: String(version), origin });
  const itemsOf = async (id: number): Promise<number[]> => {
    const r = await client.get<{ items: Array<{ qty: number }> }>({ index, id: String(id) }); // realtime: the latest write
    return r._source!.items.map((i) => i.qty);
  };
  /** What a search sees: the documents holding item 10 as of the last refresh. */
  const searchHolding = async (): Promise<string[]> => {
    const r = await client.search({ index, query: { term: { _refs: `${schema}.items:{"id":10}` } }, _source: false });
    return r.hits.hits.map((h) => h._id!).sort();
  };
  const rebuilder = (extra: Partial<JoinedRebuilderDeps> = {}) => createJoinedRebuilder({ db, es: client, catalog: undefined as never, indexes: [spec], batchKeys: 10, log: silentLogger, ...extra });
  let catalog: JoinedRebuilderDeps['catalog'];

  beforeAll(async () => {
    fixture = await createJoinedSchema({
      schema, index,
      tables: { orders: 'id int PRIMARY KEY, label text', items: 'id int PRIMARY KEY, order_id int NOT NULL, qty int NOT NULL' },
      definition: {
        table: `${schema}.orders`, fields: { label: { type: 'text', searchable: true } },
        relations: { items: { table: `${schema}.items`, kind: 'one-to-many', on: { id: 'order_id' }, fields: { qty: { type: 'integer' } } } },
      },
    });
    ({ db, client, spec, sink } = fixture);
    catalog = await checkRelations(db, [spec]);
  });

  beforeEach(async () => {
    await dropSearchIndex(client, index);
    await ensureIndex(client, spec);
    await client.indices.putSettings({ index, settings: { refresh_interval: '-1' } });
    await db.query(`TRUNCATE ${schema}.orders, ${schema}.items`);
    await db.query(`INSERT INTO ${schema}.orders VALUES (1, 'A'), (2, 'B'), (3, 'C')`);
    await db.query(`INSERT INTO ${schema}.items VALUES (10, 1, 7)`);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  const write = async (ops: Parameters<EsDocumentSink['write']>[0]) => void (await sink.write(ops, async () => undefined));

  it('a row moved A -> B, then B -> C before any refresh, leaves B', async () => {
    const r = rebuilder({ catalog });
    await r.rebuild([root(1, 100), root(2, 100), root(3, 100)], write);
    await db.query(`UPDATE ${schema}.items SET order_id = 2 WHERE id = 10`);
    // The first lookup knows nothing of earlier writes (a start): it refreshes, then records B.
    await r.rebuild([item(200)], write);
    expect(await searchHolding()).toEqual(['1']);
    expect(r.written.size(index)).toBeGreaterThan(0);
    await db.query(`UPDATE ${schema}.items SET order_id = 3 WHERE id = 10`);
    await r.rebuild([item(300)], write);
    // No refresh since: a search still sees A holding the row, and not B, which got it at 200.
    expect(await searchHolding()).toEqual(['1']);
    expect(await itemsOf(1)).toEqual([]);
    expect(await itemsOf(2)).toEqual([]);
    expect(await itemsOf(3)).toEqual([7]);
  });

  it('a refresh done elsewhere (the watermark task) lets the record forget what it made searchable', async () => {
    const r = rebuilder({ catalog });
    await r.rebuild([root(1, 100), root(2, 100), root(3, 100)], write);
    await db.query(`UPDATE ${schema}.items SET order_id = 2 WHERE id = 10`);
    await r.rebuild([item(200)], write);
    const hook = r.beforeRefresh([index]);
    expect(hook.indexes).toEqual([index]);
    await client.indices.refresh({ index });
    hook.after();
    expect(r.written.size(index)).toBe(0);
    expect(await searchHolding()).toEqual(['2']);
    await db.query(`UPDATE ${schema}.items SET order_id = 3 WHERE id = 10`);
    await r.rebuild([item(300)], write);
    expect(await itemsOf(2)).toEqual([]);
    expect(await itemsOf(3)).toEqual([7]);
  });

  it('refreshes before the lookup when another process may write the index, or after a rebalance', async () => {
    const r = rebuilder({ catalog, exclusive: () => false });
    await r.rebuild([root(1, 100), root(2, 100), root(3, 100)], write);
    await db.query(`UPDATE ${schema}.items SET order_id = 2 WHERE id = 10`);
    await r.rebuild([item(200)], write);
    expect(await searchHolding()).toEqual(['1']);
    await db.query(`UPDATE ${schema}.items SET order_id = 3 WHERE id = 10`);
    await r.rebuild([item(300)], write);
    expect(await searchHolding()).toEqual(['2']); // refreshed before the lookup this time
    expect(await itemsOf(2)).toEqual([]);

    const mine = rebuilder({ catalog });
    await mine.rebuild([item(400)], write); // a first lookup: refreshes, the record is complete
    await db.query(`UPDATE ${schema}.items SET order_id = 1 WHERE id = 10`);
    await mine.rebuild([item(500)], write);
    mine.reset();
    await db.query(`UPDATE ${schema}.items SET order_id = 2 WHERE id = 10`);
    await mine.rebuild([item(600)], write);
    expect(await searchHolding()).toEqual(['1']); // refreshed after the reset, before the lookup
    expect(await itemsOf(1)).toEqual([]);
    expect(await itemsOf(2)).toEqual([7]);
  });
});
