import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { createLogger } from '../core/logger';
import { quiesce, testPipeline } from '../ingest/test-support/harness';
import { allDocs } from './support/indexer-harness';
import { es, eventually, pg, uniqueName } from './support/services';
import { startTestIndexer, type TestIndexer } from './support/test-indexer';

/**
 * DDL under writes, checked document by document against Postgres: after a column that feeds a
 * field is renamed, renamed back, retyped or dropped, every document must be what the row is now
 * (never a mix of documents with and without the field, or with a string here and a number there),
 * and the change must be loud: an error line naming index, field and column, and a problem on
 * /healthz while the column is missing. The expected documents are built by SQL from the catalog
 * and the rows, not by the product's code.
 */
describe('DDL on columns that feed document fields, under writes', () => {
  const table = uniqueName('ddl');
  const index = uniqueName('ddldocs');
  const ROWS = 400;
  let db: Client;
  let writerDb: Client;
  let client: EsClient;
  let p: ReturnType<typeof testPipeline>;
  let run: ReturnType<ReturnType<typeof testPipeline>['start']>;
  let indexer: TestIndexer;
  const lines: Array<{ level: string; msg: string; index?: string; field?: string; column?: string }> = [];
  let next = ROWS + 1; // the next id the writer inserts
  // n → integer, label → keyword, amount (numeric, later float8) → double
  const fields = { n: { type: 'integer' }, label: { type: 'keyword', searchable: true }, amount: { type: 'double' } };

  /** Writes until stopped: updates of random rows and some inserts, as an application would. */
  function startWriter(): () => Promise<number> {
    let stop = false;
    let writes = 0;
    const loop = (async () => {
      while (!stop) {
        const id = 1 + Math.floor(Math.random() * ROWS);
        if (writes % 10 === 0) await writerDb.query(`INSERT INTO ${table} (id, n) VALUES ($1, 0)`, [next++]);
        else await writerDb.query(`UPDATE ${table} SET n = n + 1 WHERE id = $1`, [id]);
        writes++;
      }
    })();
    return async () => {
      stop = true;
      await loop;
      return writes;
    };
  }

  /** Every row as its document should be, from the catalog and the rows alone. */
  async function expectedDocs(): Promise<Map<string, string>> {
    const cols = await db.query<{ column_name: string; data_type: string }>(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1`, [table]);
    const type = new Map(cols.rows.map((c) => [c.column_name, c.data_type]));
    const parts: string[] = [];
    for (const [field, spec] of Object.entries(fields)) {
      const t = type.get(field);
      if (!t) continue; // the column is gone: no document may hold the field
      void spec;
      // numeric travels as its exact text, float8 and int as JSON numbers, text as a string
      parts.push(`'${field}', ${t === 'numeric' ? `${field}::text` : field}`);
    }
    const { rows } = await db.query<{ id: number; doc: Record<string, unknown> }>(`SELECT id, jsonb_strip_nulls(jsonb_build_object(${parts.join(', ')})) AS doc FROM ${table}`);
    return new Map(rows.map((r) => [String(r.id), canonical(r.doc)]));
  }
  const canonical = (doc: Record<string, unknown>): string => JSON.stringify(Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== null).sort(([a], [b]) => a.localeCompare(b))));

  async function verdict(): Promise<{ missing: string[]; extra: string[]; stale: string[]; examples: string[] }> {
    const want = await expectedDocs();
    const got = await allDocs(client, index);
    const missing = [...want.keys()].filter((id) => !got.has(id));
    const extra = [...got.keys()].filter((id) => !want.has(id));
    const stale = [...want].filter(([id, doc]) => got.has(id) && canonical(JSON.parse(got.get(id)!.source) as Record<string, unknown>) !== doc).map(([id]) => id);
    const examples = stale.slice(0, 3).map((id) => `${id}: want ${want.get(id)} got ${got.get(id)!.source}`);
    return { missing, extra, stale, examples };
  }

  /** DDL while the writer runs, then writes a little more, stops, waits for quiet and the copy. */
  async function underWrites(ddl: string): Promise<void> {
    const stopWriter = startWriter();
    await new Promise((r) => setTimeout(r, 300));
    await db.query(ddl);
    await new Promise((r) => setTimeout(r, 500));
    expect(await stopWriter()).toBeGreaterThan(0);
    await quiesce(db, p.slot);
    await run.ingest.snapshotDone();
    await quiesce(db, p.slot);
  }
  const consistent = () => eventually(async () => {
    const v = await verdict();
    return v.missing.length + v.extra.length + v.stale.length === 0 ? v : undefined;
  }, 'every document equal to its row', 90_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await verdict())}`);
  });

  beforeAll(async () => {
    db = await pg();
    writerDb = await pg();
    client = es();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL, label text, amount numeric(12, 2))`);
    await db.query(`INSERT INTO ${table} SELECT i, 0, 'label ' || i, i * 1.25 FROM generate_series(1, ${ROWS}) i`);
    const pipeline = JSON.stringify({ version: 1, indexes: { [index]: { table, fields } } });
    p = testPipeline(db, [table]);
    const log = createLogger('ingest', 'warn', (line) => void lines.push(JSON.parse(line) as (typeof lines)[number]));
    run = p.start({ INGEST_SNAPSHOT_CHUNK_ROWS: '100' }, { pipeline, log });
    await run.ingest.start();
    indexer = await startTestIndexer({ prefix: p.prefix, pipelineJson: pipeline, es: client });
    await run.ingest.snapshotDone();
    await consistent();
  });

  afterAll(async () => {
    await p.cleanup();
    await indexer?.close([p.topic(table)]);
    await client.close();
    await writerDb.end();
    await db.end();
  });

  const missingGauge = async () => (await run.metrics.missingColumns.get()).values.filter((v) => v.value === 1).map((v) => `${v.labels.index}.${v.labels.field}<-${v.labels.column}`);

  it('a renamed column: no document keeps the field, and it is loud', async () => {
    await underWrites(`ALTER TABLE ${table} RENAME COLUMN label TO heading`);
    await consistent();
    const docs = await allDocs(client, index);
    expect([...docs.values()].filter((d) => 'label' in (JSON.parse(d.source) as object))).toEqual([]);
    expect(lines.some((l) => l.level === 'error' && l.index === index && l.field === 'label' && l.column === 'label')).toBe(true);
    expect(run.ingest.problems()).toEqual([{ problem: 'column_missing', table: `public.${table}`, column: 'label', index, field: 'label' }]);
    expect(await missingGauge()).toEqual([`${index}.label<-label`]);
  });

  it('renamed back: every document has the field again', async () => {
    await underWrites(`ALTER TABLE ${table} RENAME COLUMN heading TO label`);
    await consistent();
    const docs = [...(await allDocs(client, index)).values()].map((d) => JSON.parse(d.source) as Record<string, unknown>);
    expect(docs.filter((d) => typeof d.label === 'string').length).toBe(ROWS); // the writer's inserts have none
    expect(run.ingest.problems()).toEqual([]);
    expect(await missingGauge()).toEqual([]);
  });

  it('a retyped column (numeric to float8): the field has the new type in every document', async () => {
    await underWrites(`ALTER TABLE ${table} ALTER COLUMN amount TYPE float8`);
    await consistent();
    const docs = [...(await allDocs(client, index)).values()].map((d) => JSON.parse(d.source) as Record<string, unknown>);
    expect(docs.filter((d) => d.amount != null && typeof d.amount !== 'number')).toEqual([]);
    expect(docs.filter((d) => typeof d.amount === 'number').length).toBe(ROWS);
    expect(lines.some((l) => l.level === 'error' && l.field === 'amount' && l.msg.includes('numeric') && l.msg.includes('double precision'))).toBe(true);
  });

  it('a dropped column: documents not touched since lose the old value too', async () => {
    await underWrites(`ALTER TABLE ${table} DROP COLUMN label`);
    await consistent();
    const docs = [...(await allDocs(client, index)).values()].map((d) => JSON.parse(d.source) as Record<string, unknown>);
    expect(docs.filter((d) => 'label' in d)).toEqual([]);
    expect(run.ingest.problems().map((x) => x.problem)).toEqual(['column_missing']);
    expect((await run.metrics.schemaChanges.get()).values.map((v) => `${v.labels.kind}:${v.value}`).sort()).toEqual(['column_back:1', 'column_missing:2', 'column_retyped:1']);
    expect(indexer.fatal).toEqual([]);
    expect(run.fatal).toEqual([]);
  });
});
