/**
 * What a full reconciliation costs against the real Postgres and Elasticsearch, next to the floor
 * measured in the same run: reading both sides once without hashing (the read reconcile cannot
 * avoid). Builds a table of --rows rows and an index of the same documents (written directly, no
 * pipeline), then runs reconcile clean, with --drift documents changed, and sampled. Prints wall
 * time and this process's CPU per row; the ratios hold on a busy machine, the seconds do not.
 * Not a test.
 *
 *   STACK_DIR=/path/.stack npx tsx bench/reconcile.bench.ts [--rows 100000] [--drift 10]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Client } from 'pg';
import { parsePipelineConfig } from '../config/pipeline';
import { indexDocuments } from '../ingest/reconcile/index-documents';
import { reconcile } from '../ingest/reconcile/reconciler';
import { rowDocuments } from '../ingest/reconcile/row-documents';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, drift: { type: 'string', default: '10' } } });
const ROWS = Number(args.rows);
const DRIFT = Number(args.drift);

const stackEnv = path.join(process.env.STACK_DIR ?? path.join(__dirname, '..', '.stack'), 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}

async function measure<T>(label: string, f: () => Promise<T>): Promise<{ ms: number; cpuUsPerRow: number; value: T }> {
  const cpu = process.cpuUsage();
  const started = Date.now();
  const value = await f();
  const ms = Date.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuUsPerRow = (used.user + used.system) / ROWS;
  process.stdout.write(`${label.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${cpuUsPerRow.toFixed(1).padStart(6)} µs CPU/row\n`);
  return { ms, cpuUsPerRow, value };
}

async function main(): Promise<void> {
  const suffix = `${Date.now().toString(36)}_${process.pid}`;
  const table = `bench_reconcile_${suffix}`;
  const index = `bench-reconcile-${suffix}`;
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  const es = new EsClient({ node: process.env.ELASTICSEARCH_URL! });
  await db.connect();
  try {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, year int, notes text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'title ' || g, 1980 + g % 40, repeat('n', 100 + g % 100) FROM generate_series(1, ${ROWS}) g`);
    await db.query(`ANALYZE ${table}`);
    await es.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' }, mappings: { properties: { title: { type: 'text' }, year: { type: 'integer' }, notes: { type: 'text' } } } });
    for (let from = 1; from <= ROWS; from += 5000) {
      const operations: unknown[] = [];
      for (let g = from; g < Math.min(from + 5000, ROWS + 1); g++) operations.push({ index: { _index: index, _id: String(g) } }, { title: `title ${g}`, year: 1980 + (g % 40), notes: 'n'.repeat(100 + (g % 100)) });
      await es.bulk({ operations });
    }
    await es.indices.refresh({ index });
    const spec = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true }, year: { type: 'integer' }, notes: { type: 'text' } } } } })).indexes[0]!;
    const opts = { bucketRows: 1000, settleMs: 0, examples: 3 };
    process.stdout.write(`reconcile bench: ${ROWS.toLocaleString('en')} rows, ${DRIFT} drifted documents\n`);

    const floor = await measure('floor: read both sides, no hash', async () => {
      const rows = await rowDocuments(db, spec);
      const docs = indexDocuments(es, index);
      let n = 0;
      await Promise.all([(async () => { for await (const r of rows.scan()) n += r.id.length; })(), (async () => { for await (const d of docs.scan()) n += d.id.length; })()]);
      return n;
    });
    const clean = await measure('reconcile full, nothing drifted', () => reconcile(db, es, spec, opts));
    for (let i = 0; i < DRIFT; i++) await es.index({ index, id: String(1 + Math.floor((i * ROWS) / DRIFT)), document: { title: 'edited' } });
    await es.indices.refresh({ index });
    const drifted = await measure(`reconcile full, ${DRIFT} drifted`, () => reconcile(db, es, spec, opts));
    const sampled = await measure('reconcile --sample 1000', () => reconcile(db, es, spec, { ...opts, sample: 1000 }));
    process.stdout.write(`clean / floor: ${(clean.ms / floor.ms).toFixed(2)}x wall, ${(clean.cpuUsPerRow / floor.cpuUsPerRow).toFixed(2)}x CPU; drifted / clean: ${(drifted.ms / clean.ms).toFixed(2)}x wall; sample / clean: ${(sampled.ms / clean.ms).toFixed(3)}x wall\n`);
    process.stdout.write(`clean: ${JSON.stringify({ buckets: clean.value.buckets, differing: clean.value.differingBuckets, counts: clean.value.counts })}\n`);
    process.stdout.write(`drifted: ${JSON.stringify({ buckets: drifted.value.buckets, differing: drifted.value.differingBuckets, counts: drifted.value.counts })}\n`);
    process.stdout.write(`sampled: ${JSON.stringify({ rows: sampled.value.rows, documents: sampled.value.documents, counts: sampled.value.counts })}\n`);
  } finally {
    await es.indices.delete({ index }, { ignore: [404] });
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    await es.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
