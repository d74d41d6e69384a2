import type { Client as EsClient } from '@elastic/elasticsearch';
import { Pool, type Client } from 'pg';
import type { IndexSpec } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { env, uniqueName } from '../../e2e/support/services';
import type { EsDocumentSink } from '../sink/es-document-sink';
import { createJoinedSchema, type JoinedSchema } from '../../e2e/support/joined-schema';
import { checkRelations } from './check-relations';
import { createJoinedRebuilder, type JoinedRebuilder } from './joined-rebuilder';
import type { RebuildRequest } from './rebuild-requests';

/**
 * The version rule's edges against the real Postgres and Elasticsearch (docs/joined-documents.md):
 * a rebuild reads the database when it runs and is written with the version of the change that
 * asked for it, so an older rebuild arriving late never wins over a newer one, two racing rebuilds
 * end with the higher version, and a rebuild older than a delete cannot bring the document back.
 */
describe('joined rebuilds and their versions', () => {
  const schema = uniqueName('jr').replace(/-/g, '_');
  const index = uniqueName('jrdocs');
  let db: Client;
  let client: EsClient;
  let spec: IndexSpec;
  let rebuilder: JoinedRebuilder;
  // The rebuilder's own pool, as the indexer gives it: the racing rebuilds below query at once.
  const pool = new Pool({ connectionString: env('DATABASE_URL'), max: 4 });
  let sink: EsDocumentSink;
  let fixture: JoinedSchema;
  const origin = { topic: 't', partition: 0, offset: '0' };
  const root = (version: number): RebuildRequest => ({ index, kind: 'root', source: { schema, table: 'orders' }, key: { id: 1 }, version: String(version), op: 'u', lsn: String(version), origin });
  const rebuild = (r: RebuildRequest) => rebuilder.rebuild([r], async (ops) => void (await sink.write(ops, async () => undefined)));
  const current = async () => {
    const r = await client.get<{ customer: { name: string } }>({ index, id: '1' }, { ignore: [404] });
    return r.found ? { name: r._source!.customer.name, version: String(r._version) } : undefined;
  };

  beforeAll(async () => {
    fixture = await createJoinedSchema({
      schema, index,
      tables: { customers: 'id int PRIMARY KEY, name text NOT NULL', orders: 'id int PRIMARY KEY, customer_id int NOT NULL, label text' },
      definition: {
        table: `${schema}.orders`, fields: { label: { type: 'text', searchable: true } },
        relations: { customer: { table: `${schema}.customers`, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'keyword', searchable: true } } } },
      },
    });
    ({ db, client, spec, sink } = fixture);
    await db.query(`INSERT INTO ${schema}.customers VALUES (1, 'one')`);
    await db.query(`INSERT INTO ${schema}.orders VALUES (1, 1)`);
    const catalog = await checkRelations(db, [spec]);
    rebuilder = createJoinedRebuilder({ db: pool, es: client, catalog, indexes: [spec], batchKeys: 10, log: silentLogger });
  });

  afterAll(async () => {
    await pool.end();
    await fixture?.close();
  });

  it('a late rebuild with an older version loses to the newer one, whatever it read', async () => {
    await rebuild(root(100));
    expect(await current()).toEqual({ name: 'one', version: '100' });
    await db.query(`UPDATE ${schema}.customers SET name = 'two'`);
    await rebuild(root(200));
    await db.query(`UPDATE ${schema}.customers SET name = 'three'`);
    // Asked for by a change between 100 and 200, run late: it reads 'three' but carries 150.
    await rebuild(root(150));
    expect(await current()).toEqual({ name: 'two', version: '200' });
  });

  it('two rebuilds racing end with the higher version, which read the later state', async () => {
    await db.query(`UPDATE ${schema}.customers SET name = 'four'`);
    await Promise.all([rebuild(root(300)), rebuild(root(250))]);
    expect(await current()).toEqual({ name: 'four', version: '300' });
  });

  it('builds a batch of many roots several batches at once, each document written once, exactly as the database prints it', async () => {
    const many = createJoinedRebuilder({ db: pool, es: client, catalog: await checkRelations(db, [spec]), indexes: [spec], batchKeys: 7, batchesInFlight: 3, log: silentLogger });
    await db.query(`INSERT INTO ${schema}.orders SELECT g, 1, 'bulk ' || g FROM generate_series(1000, 1099) g`);
    let inFlight = 0;
    let peak = 0;
    const written: string[] = [];
    const requests = Array.from({ length: 100 }, (_, i): RebuildRequest => ({ ...root(500), key: { id: 1000 + i } }));
    await many.rebuild(requests, async (ops) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      for (const op of ops) expect(op.source).toBeDefined(); // no json column: the text goes as it is
      await sink.write(ops, async () => undefined);
      written.push(...ops.map((o) => o.id));
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(written.sort()).toEqual(requests.map((r) => String(r.key.id)).sort());
    const doc = await client.get<{ label: string; customer: { name: string } }>({ index, id: '1042' });
    expect(doc._source).toMatchObject({ label: 'bulk 1042', customer: { name: 'four' } });
    // A failing write stops the rebuild with its error, once the batches in flight are done.
    let calls = 0;
    await expect(many.rebuild(requests, async () => {
      if (++calls === 2) throw new Error('bulk refused');
      await new Promise((r) => setTimeout(r, 20));
    })).rejects.toThrow('bulk refused');
    expect(calls).toBeLessThan(15);
  });

  it('a rebuild older than a delete of the root cannot bring the document back', async () => {
    await db.query(`DELETE FROM ${schema}.orders WHERE id = 1`);
    await rebuild(root(400));
    expect(await current()).toBeUndefined();
    // An older request run after the delete reads no root either: it writes a delete, never the old document.
    await rebuild(root(350));
    expect(await current()).toBeUndefined();
  });
});
