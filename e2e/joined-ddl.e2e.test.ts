import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { createLogger } from '../core/logger';
import { quiesce, testPipeline } from '../ingest/test-support/harness';
import { allDocs } from './support/indexer-harness';
import { joinedModel } from './support/joined-model';
import { es, eventually, pg } from './support/services';
import { startJoinedRun, type TestIndexer } from './support/test-indexer';

/**
 * DDL on the related tables of a joined index (support/joined-model.ts), each under the random
 * workload on every table: a column added, renamed (a field's and an orderBy column at once),
 * retyped (a field int4 -> int8), key columns retyped (the through table's and the items'), and
 * a join column retyped to a type its other side cannot be compared with.
 * Each must behave as on a root table (docs/schema-changes.md): afterwards every document is what
 * the tables are now, per the checker's SQL over the catalog and the rows (never a mix of
 * documents built before and after), and the change is loud. A dropped column is covered by
 * e2e/joined-documents.e2e.test.ts.
 */
jest.setTimeout(300_000);

describe('DDL on the related tables of a joined index, under writes', () => {
  const m = joinedModel();
  const { index } = m;
  let db: Client;
  let writer: Client;
  let client: EsClient;
  let p: ReturnType<typeof testPipeline>;
  let run: ReturnType<ReturnType<typeof testPipeline>['start']>;
  let joined: Awaited<ReturnType<typeof startJoinedRun>> | undefined;
  let indexer: TestIndexer;
  const lines: Array<{ level: string; msg: string; index?: string; changes?: string[] }> = [];

  const consistent = async (): Promise<void> => {
    await quiesce(db, p.slot);
    await eventually(async () => {
      const v = await m.verdict(db, client);
      return v.missing.length + v.extra.length + v.stale.length === 0 ? true : undefined;
    }, 'every joined document equal to what SQL computes', 120_000).catch(async (err: Error) => {
      const v = await m.verdict(db, client);
      throw new Error(`${err.message}: ${JSON.stringify({ missing: v.missing.length, extra: v.extra.length, stale: v.stale.length, examples: v.examples })}`);
    });
  };

  /**
   * The random workload around `ddl`: writes before, the DDL, writes after; a write naming a column
   * that is gone is skipped. `touch` writes the DDL's table once after it (ingest sees DDL with the
   * table's next change, docs/schema-changes.md; the workload may not write it otherwise).
   */
  async function underWrites(ddl: string, touch?: string): Promise<void> {
    // undefined column; after a retype to text, a parameter compared with both an int and a text column
    const write = async () => m.randomWrite(writer).catch((err: { code?: string }) => {
      if (!['42703', '42P08', '42883'].includes(err.code ?? '')) throw err;
    });
    for (let i = 0; i < 40; i++) await write();
    await db.query(ddl);
    for (let i = 0; i < 120; i++) await write();
    if (touch) await db.query(touch);
    // Once ingest has read past the writes it has seen the DDL and asked for the copy of the root table.
    await quiesce(db, p.slot);
    await run.ingest.snapshotDone();
    await consistent();
    expect(indexer.fatal).toEqual([]);
  }
  const docs = async () => [...(await allDocs(client, index)).values()].map((d) => JSON.parse(d.source) as {
    items: Array<{ qty: unknown }>; tags: Array<Record<string, unknown>>; customer: Record<string, unknown> | null; _refs: string[];
  });

  beforeAll(async () => {
    db = await pg();
    writer = await pg();
    client = es();
    const log = createLogger('indexer', 'error', (line) => void lines.push(JSON.parse(line) as (typeof lines)[number]));
    joined = await startJoinedRun(m, db, client, { env: { INDEXER_JOIN_BATCH_KEYS: '16' }, log });
    ({ p, run, indexer } = joined);
    await consistent();
  });

  afterAll(async () => {
    await joined?.close();
    await client.close();
    await writer.end();
    await db.end();
  });

  it('a column added to a related table: no document changes shape', async () => {
    await underWrites(`ALTER TABLE ${m.customers} ADD COLUMN vip boolean NOT NULL DEFAULT true`);
    expect((await docs()).filter((d) => d.customer && 'vip' in d.customer)).toEqual([]);
    expect(run.ingest.problems()).toEqual([]);
  });

  it('a retyped field of a related table (int4 to int8): every document holds it in the new type, as a root table\'s would', async () => {
    await underWrites(`ALTER TABLE ${m.items} ALTER COLUMN qty TYPE bigint`);
    const qtys = (await docs()).flatMap((d) => d.items.map((i) => i.qty));
    expect(qtys.length).toBeGreaterThan(0);
    expect(qtys.filter((q) => typeof q !== 'string')).toEqual([]); // int8 travels as its exact text
    expect(lines.some((l) => l.level === 'error' && l.index === index && (l.changes ?? []).some((c) => c.includes(`${m.items}.qty changed type from integer to bigint`)))).toBe(true);
  });

  it('retyped key columns (a through table\'s, which is also a join column, and the items\'): links and items deleted and moved afterwards still leave their documents', async () => {
    await underWrites(`ALTER TABLE ${m.orderTags} ALTER COLUMN tag_id TYPE bigint`);
    await underWrites(`ALTER TABLE ${m.items} ALTER COLUMN id TYPE bigint`);
    // The rows are named in _refs as their events name them now (int8 keys as text), once the
    // indexer has rebuilt ingest's copy (the checker's SQL leaves _refs aside, so it is waited for here).
    const oldForm = async () => (await docs()).flatMap((d) => d._refs).filter((r) =>
      (r.startsWith(`public.${m.orderTags}:`) && !/"tag_id":"\d+"/.test(r)) || (r.startsWith(`public.${m.items}:`) && !/"id":"\d+"/.test(r)));
    await eventually(async () => ((await oldForm()).length ? undefined : true), 'every _refs entry in the new form', 120_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${(await oldForm()).slice(0, 5).join(', ')}`);
    });
    // Deletes found through the new _refs only (the rows are gone, no SQL walk finds their documents).
    await db.query(`DELETE FROM ${m.orderTags} WHERE order_id <= 20`);
    await db.query(`DELETE FROM ${m.items} WHERE order_id <= 20`);
    await consistent();
  });

  it('a renamed column of a related table, a field and the orderBy of its array: every document loses the field, loudly, and the array is in key order', async () => {
    await underWrites(`ALTER TABLE ${m.tags} RENAME COLUMN label TO name`, `UPDATE ${m.tags} SET name = name || '!' WHERE id = 1`);
    expect((await docs()).flatMap((d) => d.tags).filter((t) => 'label' in t || 'name' in t)).toEqual([]);
    expect(run.ingest.problems()).toContainEqual({ problem: 'column_missing', table: `public.${m.tags}`, column: 'label', index, field: 'tags.label' });
  });

  it('a join column retyped to a type the other side cannot be compared with (int4 to text): every document loses the relation, loudly, and nothing stalls', async () => {
    await underWrites(`ALTER TABLE ${m.shipping} ALTER COLUMN order_id TYPE text`);
    expect((await docs()).filter((d) => 'shipping' in d)).toEqual([]);
    expect(lines.some((l) => l.level === 'error' && l.index === index && l.msg.includes(`${m.shipping}.order_id (text)`) && l.msg.includes('cannot be compared'))).toBe(true);
    // Other tables still flow.
    await db.query(`UPDATE ${m.customers} SET name = 'after the retype'`);
    await consistent();
  });
});
