/**
 * npm run resnapshot -- <schema.table> [--from KEY] [--to KEY] [--detach]
 *
 * Copies one table again, or the rows of a key range (inclusive bounds, either may be left open),
 * through ingest's watermark snapshot while the stream runs: a copied row never overwrites a newer
 * change. Writes a request into the source database; the ingest streaming SLOT_NAME picks it up
 * (INGEST_RESNAPSHOT_POLL_MS), also after a restart. Waits and shows progress unless --detach.
 * A key of several columns is a JSON array of their values in key order: --from '["eu", 100]'.
 * Reads the same environment as ingest (DATABASE_URL, SLOT_NAME, PIPELINE_CONFIG, INGEST_HTTP_TABLES).
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadIngestConfig } from '../config';
import { loadPipelineConfig, sourceTables } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { ensureRequestTable, readRequest, requestResnapshot, type KeyTexts } from '../ingest/snapshot/resnapshot-requests';
import { describeTable, readRangeChunk } from '../ingest/snapshot/table-reader';

const USAGE = 'usage: npm run resnapshot -- <schema.table> [--from KEY] [--to KEY] [--detach]\n';

/** A key from the command line: a JSON array for several columns, else the one column's value. */
function parseKey(text: string, columns: readonly string[], flag: string): KeyTexts {
  let values: unknown[];
  if (text.trim().startsWith('[')) {
    try {
      values = JSON.parse(text) as unknown[];
    } catch {
      throw new UsageError(`${flag} ${text}: not a JSON array; give the key's values in key order (${columns.join(', ')}), e.g. ${flag} '${JSON.stringify(columns.map(() => 'value'))}'`);
    }
  } else values = [text];
  if (!Array.isArray(values) || values.length !== columns.length || values.some((v) => v === null || typeof v === 'object')) {
    throw new UsageError(`${flag} ${text}: the key has ${columns.length} column(s) (${columns.join(', ')}); give ${columns.length === 1 ? 'its value' : `a JSON array of ${columns.length} values`}`);
  }
  return values.map(String);
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, detach: { type: 'boolean', default: false } } });
  if (positionals.length !== 1 || !/^[^.\s]+\.[^.\s]+$/.test(positionals[0]!)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const table = positionals[0]!;
  const config = loadIngestConfig();
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const captured = [...new Set(pipeline.indexes.flatMap(sourceTables).map((t) => `${t.schema}.${t.table}`))].filter((t) => !config.httpTables.includes(t));
  if (!captured.includes(table)) {
    process.stderr.write(`${table} is not captured from Postgres by the pipeline config ${config.pipelineConfigPath}; captured: ${captured.join(', ') || 'none'}\n`);
    return 2;
  }
  const db = new Client({ connectionString: config.databaseUrl });
  await db.connect();
  try {
    const [schema, name] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
    const relation = await describeTable(db, schema, name);
    const from = values.from === undefined ? undefined : parseKey(values.from, relation.keyColumns, '--from');
    const to = values.to === undefined ? undefined : parseKey(values.to, relation.keyColumns, '--to');
    // Postgres checks the bounds against the key's types now, rather than ingest later.
    await readRangeChunk(db, relation, { from, to }, null, 0).catch((err: unknown) => {
      throw new UsageError(`Postgres refused the bounds for the key (${relation.keyColumns.join(', ')}): ${errorMessage(err)}`);
    });
    await ensureRequestTable(db);
    const what = from || to ? `keys ${from ? JSON.stringify(from) : '(start)'} to ${to ? JSON.stringify(to) : '(end)'}` : 'the whole table';
    const id = await requestResnapshot(db, config.slotName, table, { from, to }, 'npm run resnapshot');
    process.stdout.write(`re-snapshot #${id} of ${table}, ${what}, requested for slot ${config.slotName}\n`);
    const slot = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [config.slotName]);
    if (!slot.rows[0]?.active) process.stdout.write(`no ingest is streaming slot ${config.slotName} now: the copy starts when one does\n`);
    if (values.detach) return 0;
    // The number of rows in a range is not known up front: a count every few seconds rather than a bar.
    let shown = -1;
    let shownAt = 0;
    for (;;) {
      const r = await readRequest(db, id);
      if (!r) throw new Error(`re-snapshot request #${id} disappeared`);
      if (r.rowsDone !== shown && Date.now() - shownAt > 2000 && !r.done) {
        process.stderr.write(`  ${r.rowsDone.toLocaleString('en')} rows copied so far (Ctrl-C leaves the request to ingest)\n`);
        [shown, shownAt] = [r.rowsDone, Date.now()];
      }
      if (r.done) {
        if (r.error) {
          process.stderr.write(`re-snapshot #${id} ended without copying: ${r.error}\n`);
          return 1;
        }
        process.stdout.write(`re-snapshot #${id} done: ${r.rowsDone.toLocaleString('en')} rows copied through the stream\n`);
        return 0;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    await db.end();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `${err.message}\n` : `resnapshot failed: ${errorMessage(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
