import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { dropSearchIndex } from './support/indexer-harness';
import { freePort, startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { es, eventually, pg, uniqueName } from './support/services';

const ROOT = path.join(__dirname, '..');
const ROWS = 2000;

interface Report { mode: string; rows: number; documents: number; buckets?: number; differingBuckets?: number; counts: Record<'missing' | 'extra' | 'stale', number>; examples: Record<'missing' | 'extra' | 'stale', Array<{ id: string; fields?: string[] }>>; seconds: number }

/**
 * Drift behind the pipeline's back, found and repaired: with ingest and the indexer running as
 * processes, a row is changed and one deleted while ingest is stopped and its slot dropped and
 * made anew (those changes never reach the stream), and in Elasticsearch one document is deleted,
 * one edited and two added. `npm run reconcile` (full and sampled) reports each with counts and
 * examples, ingest's background job exports the same counts as metrics, and `--repair` sends them
 * through ingest's ordered path; afterwards reconcile reports 0/0/0 and every document equals its row.
 */
describe('reconciliation with repair', () => {
  const table = uniqueName('recon');
  const index = uniqueName('recon');
  const slot = uniqueName('slot');
  let db: Client;
  const elastic = es();
  let env: Record<string, string>;
  let ingest: RunningService;
  let indexer: RunningService;
  let metricsUrl: string;

  const cli = (...args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'reconcile.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
  const report = async (...args: string[]): Promise<{ code: number | null; report: Report; err: string }> => {
    const r = await cli(index, '--json', ...args);
    const line = r.out.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`reconcile printed no report (exit ${r.code}):\n${r.out}\n${r.err}`);
    return { code: r.code, report: JSON.parse(line) as Report, err: r.err };
  };
  const ids = (r: Report, kind: 'missing' | 'extra' | 'stale'): string[] => r.examples[kind].map((e) => e.id).sort();
  const metric = async (kind: string): Promise<number | undefined> => {
    const text = await (await fetch(metricsUrl)).text();
    const m = text.match(new RegExp(`^ingest_reconcile_documents\\{index="${index}",kind="${kind}"\\} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
  };

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, year int, notes text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'title ' || g, 1980 + g % 40, CASE WHEN g % 3 = 0 THEN NULL ELSE 'notes ' || g END FROM generate_series(1, ${ROWS}) g`);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-')), 'pipeline.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true }, year: { type: 'integer' }, notes: { type: 'text' } } } } }));
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    env = {
      PIPELINE_CONFIG: file, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: uniqueName('e2e'), INDEXER_GROUP_ID: uniqueName('g'),
      INGEST_HEARTBEAT_INTERVAL_MS: '200', INGEST_RESNAPSHOT_POLL_MS: '200', INGEST_METRICS_PORT: String(port),
      // The background job, report only: its metrics must show what the command finds.
      INGEST_RECONCILE_INTERVAL_MS: '2000', RECONCILE_SETTLE_MS: '1000', RECONCILE_BUCKET_ROWS: '100', LOG_LEVEL: 'info',
    };
    ingest = startService('ingest', env);
    indexer = startService('indexer', env);
    await eventually(async () => ((await elastic.count({ index }).catch(() => undefined))?.count === ROWS ? true : undefined), `${ROWS} documents indexed`, 180_000);
  }, 240_000);

  afterAll(async () => {
    for (const s of [ingest, indexer]) {
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-3000)}\n`);
    }
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`).catch(() => undefined);
    await db.query('DELETE FROM search_pipeline_snapshot WHERE slot_name = $1', [slot]).catch(() => undefined);
    await db.query('DELETE FROM search_pipeline_resnapshot WHERE slot_name = $1', [slot]).catch(() => undefined);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await dropSearchIndex(elastic, index).catch(() => undefined);
    await db.end();
    await elastic.close();
  });

  it('finds a deleted, an edited and added documents and rows changed while the slot was lost, and repairs them through the pipeline', async () => {
    const clean = await report();
    expect(clean.code).toBe(0);
    expect(clean.report).toMatchObject({ mode: 'full', rows: ROWS, documents: ROWS, buckets: 20, differingBuckets: 0, counts: { missing: 0, extra: 0, stale: 0 } });
    process.stdout.write(`reconcile, nothing drifted: ${JSON.stringify(clean.report)}\n`);

    // Ingest stopped and its slot lost (dropped and made anew, as a failover without the slot would):
    // these two changes are never streamed.
    await stopService(ingest);
    await db.query(`UPDATE ${table} SET title = 'changed while the slot was lost' WHERE id = 10`);
    await db.query(`DELETE FROM ${table} WHERE id = 20`);
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
    await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    ingest = startService('ingest', env);
    await waitForOutput(ingest, 'ingest ready');

    // Behind the pipeline's back in Elasticsearch.
    await elastic.delete({ index, id: '30' });
    await elastic.index({ index, id: '40', document: { title: 'edited in Elasticsearch', year: 2020, notes: 'notes 40' } });
    await elastic.index({ index, id: '999999', document: { title: 'added in Elasticsearch', year: 1999, notes: null } });
    await elastic.index({ index, id: 'not-a-key', document: { title: 'no row can have this id' } });
    await elastic.indices.refresh({ index });

    const found = await report();
    process.stdout.write(`reconcile, drift injected: ${JSON.stringify(found.report)}\n`);
    expect(found.code).toBe(3);
    expect(found.report).toMatchObject({ rows: ROWS - 1, documents: ROWS + 1, counts: { missing: 1, extra: 3, stale: 2 } });
    expect(ids(found.report, 'missing')).toEqual(['30']);
    expect(ids(found.report, 'extra')).toEqual(['20', '999999', 'not-a-key']);
    expect(found.report.examples.stale.map((e) => [e.id, e.fields]).sort()).toEqual([['10', ['title']], ['40', ['title', 'year']]]);
    expect(found.report.differingBuckets).toBeGreaterThanOrEqual(1);
    expect(found.report.differingBuckets).toBeLessThanOrEqual(6);

    const sampled = await report('--sample', String(ROWS * 2));
    expect(sampled.report).toMatchObject({ mode: 'sample', counts: { missing: 1, extra: 3, stale: 2 } });

    // The background job in ingest exports the same findings.
    await eventually(async () => ((await metric('missing')) === 1 && (await metric('extra')) === 3 && (await metric('stale')) === 2 ? true : undefined), 'ingest_reconcile_documents 1/3/2', 120_000);

    const repaired = await report('--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.err).toMatch(/repair: 5 key\(s\) re-snapshotted through ingest \(request #\d+\), 1 document\(s\) no row can produce deleted/);
    expect(repaired.err).toContain('repaired: the 6 document(s) now equal their rows');
    expect(ingest.output()).toContain('re-snapshot done');

    await elastic.indices.refresh({ index });
    const after = await report();
    process.stdout.write(`reconcile, after repair: ${JSON.stringify(after.report)}\n`);
    expect(after.code).toBe(0);
    expect(after.report).toMatchObject({ rows: ROWS - 1, documents: ROWS - 1, differingBuckets: 0, counts: { missing: 0, extra: 0, stale: 0 } });
    await eventually(async () => ((await metric('missing')) === 0 && (await metric('extra')) === 0 && (await metric('stale')) === 0 ? true : undefined), 'ingest_reconcile_documents 0/0/0', 120_000);

    // Independently of reconcile: every document equals its row.
    const rows = (await db.query<{ id: number; title: string; year: number; notes: string | null }>(`SELECT id, title, year, notes FROM ${table} ORDER BY id`)).rows;
    const docs = await elastic.search<Record<string, unknown>>({ index, size: 10_000, query: { match_all: {} } });
    const byId = new Map(docs.hits.hits.map((h) => [h._id, h._source]));
    expect(byId.size).toBe(rows.length);
    for (const r of rows) expect(byId.get(String(r.id))).toEqual({ title: r.title, year: r.year, notes: r.notes });
    expect(byId.get('10')).toMatchObject({ title: 'changed while the slot was lost' });
  }, 600_000);
});
