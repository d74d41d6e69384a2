import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import type { IndexSpec } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { uniqueName } from '../../e2e/support/services';
import type { EsDocumentSink } from '../sink/es-document-sink';
import { createJoinedSchema, type JoinedSchema } from '../../e2e/support/joined-schema';
import type { SqlClient } from './catalog';
import { checkRelations } from './check-relations';
import { createJoinedRebuilder } from './joined-rebuilder';
import type { RebuildRequest } from './rebuild-requests';

/**
 * Two retypes in a row on the tables of a joined index, seen by two rebuilds at once (two
 * partitions): the rebuild that saw only the first retype finishes its re-planning last. The
 * queries must end up built from the catalog as it is now, not from the older reading (which
 * would keep building documents with the first retype's form, at new versions, for good).
 */
describe('joined queries following two retypes seen by rebuilds at once', () => {
  const schema = uniqueName('jcf').replace(/-/g, '_');
  const index = uniqueName('jcfdocs');
  let db: Client;
  let client: EsClient;
  let spec: IndexSpec;
  let sink: EsDocumentSink;
  let fixture: JoinedSchema;
  const origin = { topic: 't', partition: 0, offset: '0' };
  const root = (id: number, version: number): RebuildRequest => ({ index, kind: 'root', source: { schema, table: 'orders' }, key: { id }, version: String(version), op: 'u', lsn: String(version), origin });

  beforeAll(async () => {
    fixture = await createJoinedSchema({
      schema, index,
      tables: { customers: `id int PRIMARY KEY, score int NOT NULL, name text NOT NULL DEFAULT 'c'`, orders: `id int PRIMARY KEY, customer_id int NOT NULL, label text NOT NULL DEFAULT 'o'` },
      definition: {
        table: `${schema}.orders`, fields: { label: { type: 'text', searchable: true } },
        relations: { customer: { table: `${schema}.customers`, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { score: { type: 'long' } } } },
      },
    });
    ({ db, client, spec, sink } = fixture);
    await db.query(`INSERT INTO ${schema}.customers (id, score) VALUES (1, 5)`);
    await db.query(`INSERT INTO ${schema}.orders (id, customer_id) VALUES (1, 1), (2, 1)`);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('the later reading of the catalog wins, whichever re-planning finishes last', async () => {
    // The first caller's comparability check (asked only when join columns differ in type, as
    // after the first retype) is held until the second caller has re-planned in full.
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let held = false;
    const gated: SqlClient = {
      query: (async (q: string | { name: string; text: string; values?: unknown[] }, values?: unknown[]) => {
        if (typeof q === 'string' && q.startsWith('SELECT NULL::') && !held) {
          held = true;
          await hold;
        }
        return typeof q === 'string' ? db.query(q, values) : db.query(q);
      }) as SqlClient['query'],
    };
    const rebuilder = createJoinedRebuilder({ db: gated, es: client, catalog: await checkRelations(db, [spec]), indexes: [spec], batchKeys: 10, log: silentLogger });
    const write = async (ops: Parameters<EsDocumentSink['write']>[0]) => void (await sink.write(ops, async () => undefined));
    await rebuilder.rebuild([root(1, 100)], write);

    // A join column retyped: the first caller reads the catalog with it, then waits in its check.
    await db.query(`ALTER TABLE ${schema}.customers ALTER COLUMN id TYPE bigint`);
    const first = rebuilder.rebuild([root(1, 200)], write);
    await waitFor(() => held);
    // A field retyped next; the second caller reads it and must be the one whose queries stay.
    await db.query(`ALTER TABLE ${schema}.customers ALTER COLUMN score TYPE bigint`);
    const second = rebuilder.rebuild([root(2, 300)], write);
    await new Promise((r) => setTimeout(r, 300)); // the second caller has had time to finish, if nothing orders them
    release();
    await Promise.all([first, second]);

    // Any rebuild from now on: int8 as its exact text, and the customer's ref as its events name it now.
    await rebuilder.rebuild([root(1, 400), root(2, 400)], write);
    for (const id of ['1', '2']) {
      const doc = await client.get<{ customer: { score: unknown }; _refs: string[] }>({ index, id });
      expect(doc._source!.customer.score).toBe('5');
      expect(doc._source!._refs).toContain(`${schema}.customers:{"id":"1"}`);
    }
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error('the first rebuild never reached its comparability check');
}
