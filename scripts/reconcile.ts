/**
 * npm run reconcile -- <index> [--full | --sample N] [--repair] [--examples N] [--json]
 *
 * Compares a single-table index with its Postgres table and reports missing, extra and stale
 * documents with examples (docs/operations.md, "Reconciliation"). --full (the default) compares
 * every row and document by bucket checksums; --sample N compares N random rows and N random
 * documents. --repair sends what it found through ingest's ordered path (a re-snapshot of the
 * drifted keys), waits for it and checks again. Exit code: 0 nothing drifted (or all repaired),
 * 3 drift left, 2 bad usage, 1 failure.
 * Reads the same environment as ingest, plus ELASTICSEARCH_URL.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadIngestConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { recheck, reconcile, refusal, repair, type Finding, type ReconcileReport } from '../ingest/reconcile/reconciler';
import { readRequest } from '../ingest/snapshot/resnapshot-requests';
import { createElasticsearchClient } from '../core/elasticsearch';

const USAGE = 'usage: npm run reconcile -- <index> [--full | --sample N] [--repair] [--examples N] [--json]\n';
const REPAIR_TIMEOUT_MS = 300_000;

function describe(f: Finding): string {
  return f.kind === 'stale' ? `${f.id} (${f.fields!.join(', ')})` : f.id;
}

function print(r: ReconcileReport): void {
  const n = (x: number): string => x.toLocaleString('en');
  const how = r.mode === 'full' ? `${n(r.rows)} rows, ${n(r.documents)} documents, ${n(r.buckets!)} checksum bucket(s), ${n(r.differingBuckets!)} differing` : `a sample of ${n(r.rows)} rows and ${n(r.documents)} documents`;
  process.stdout.write(`${r.index} (${r.table}), ${r.mode}: ${how}; ${r.seconds.toFixed(1)} s\n`);
  for (const kind of ['missing', 'extra', 'stale'] as const) {
    const ex = r.examples[kind];
    process.stdout.write(`  ${kind.padEnd(7)} ${n(r.counts[kind])}${ex.length ? `: ${ex.map(describe).join(', ')}${r.counts[kind] > ex.length ? ', ...' : ''}` : ''}\n`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { full: { type: 'boolean', default: false }, sample: { type: 'string' }, repair: { type: 'boolean', default: false }, examples: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
  });
  const sample = values.sample === undefined ? undefined : Number(values.sample);
  const examples = Number(values.examples);
  if (positionals.length !== 1 || (values.full && sample !== undefined) || (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) || !(Number.isInteger(examples) && examples >= 0)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadIngestConfig();
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const index = pipeline.indexes.find((i) => i.name === positionals[0]);
  if (!index) {
    process.stderr.write(`index "${positionals[0]}" is not in the pipeline config ${config.pipelineConfigPath}; configured: ${pipeline.indexes.map((i) => i.name).join(', ')}\n`);
    return 2;
  }
  const why = refusal(index, config.httpTables);
  if (why) {
    process.stderr.write(`reconcile refused: ${why}\n`);
    return 2;
  }
  if (!config.elasticsearch) {
    process.stderr.write('ELASTICSEARCH_URL is not set: reconcile reads the index (e.g. ELASTICSEARCH_URL=http://127.0.0.1:9200).\n');
    return 2;
  }
  const db = new Client({ connectionString: config.databaseUrl });
  const es = createElasticsearchClient(config.elasticsearch);
  await db.connect();
  try {
    const report = await reconcile(db, es, index, { sample, bucketRows: config.reconcileBucketRows, settleMs: config.reconcileSettleMs, examples });
    if (values.json) process.stdout.write(`${JSON.stringify({ ...report, findings: undefined })}\n`);
    else print(report);
    if (!report.findings.length) return 0;
    if (!values.repair) {
      if (!values.json) process.stdout.write(`repair with: npm run reconcile -- ${index.name}${sample ? ` --sample ${sample}` : ''} --repair\n`);
      return 3;
    }
    const r = await repair(db, es, index, config.slotName, report.findings);
    process.stderr.write(`repair: ${r.keys} key(s) re-snapshotted through ingest${r.requestId ? ` (request #${r.requestId})` : ''}, ${r.deletedDirectly} document(s) no row can produce deleted\n`);
    const deadline = Date.now() + REPAIR_TIMEOUT_MS;
    if (r.requestId !== undefined) {
      const slot = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [config.slotName]);
      if (!slot.rows[0]?.active) process.stderr.write(`no ingest is streaming slot ${config.slotName} now: the repair runs when one does\n`);
      for (;;) {
        const req = await readRequest(db, r.requestId);
        if (req?.done && req.error) throw new Error(`re-snapshot request #${r.requestId} ended without copying: ${req.error}`);
        if (req?.done) break;
        if (Date.now() > deadline) throw new Error(`re-snapshot request #${r.requestId} not done after ${REPAIR_TIMEOUT_MS / 1000} s; it stays queued for ingest`);
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    // Through the stream and the indexer: the repaired documents appear a moment later.
    let left = await recheck(db, es, index, report.findings.map((f) => f.id));
    while (left.length && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      left = await recheck(db, es, index, left.map((f) => f.id));
    }
    if (left.length) {
      process.stderr.write(`repair incomplete: ${left.length} document(s) still differ (e.g. ${left.slice(0, 5).map(describe).join(', ')}); is the indexer running?\n`);
      return 3;
    }
    process.stderr.write(`repaired: the ${report.findings.length} document(s) now equal their rows\n`);
    return 0;
  } finally {
    await db.end();
    await es.close();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`reconcile failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
