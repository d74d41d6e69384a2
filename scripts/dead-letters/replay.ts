import { randomBytes } from 'node:crypto';
import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client as PgClient } from 'pg';
import type { PipelineConfig } from '../../config/pipeline';
import { errorMessage } from '../../core/errors';
import { lsnToDecimal } from '../../core/lsn';
import { describeTable } from '../../ingest/snapshot/table-reader';
import { emitRefetch } from '../../ingest/source/pg-messages';
import type { DeadLetter } from './record';

export type Outcome =
  /** Written again (parked document) or re-read through the stream and seen in the index. */
  | 'replayed'
  /** The index holds this version or a newer one, or the row was deleted since: nothing to do. */
  | 'superseded'
  /** Elasticsearch still refuses it (the cause is not fixed): it stays parked. */
  | 'failed'
  /** Not attempted: the reason says what is missing. */
  | 'skipped'
  /** Re-read through the stream, but not seen in the index within the wait. */
  | 'unconfirmed';

export interface ReplayResult { ref: string; index?: string; id?: string; table?: string; how: 'parked-document' | 'reread'; outcome: Outcome; detail: string }

export interface ReplayDeps {
  es: EsClient;
  /** Needed to re-read rows (ingest's dead letters, --reread) and to tell a deleted row from a lost document. */
  db?: PgClient;
  pipeline: PipelineConfig;
  slot: string;
  /** How long to wait for a re-read row to reach the index. */
  waitMs: number;
}

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
const rawText = { getTypeParser: () => (value: string) => value };

/**
 * Replays dead letters. A document the indexer parked is written again as it was, with its
 * original version and version_type external: Elasticsearch refuses it (409) when the index holds
 * that version or a newer one, so a replay never overwrites a newer change. A document that is not
 * in the index at all may have been deleted after it was parked (Elasticsearch forgets a delete
 * after index.gc_deletes, 60 s): it is written only when its row still exists in Postgres.
 * Everything else (ingest's dead letters, which carry no row; `reread`) is re-read from Postgres
 * through the stream (snapshot/refetch-windows.ts in ingest), so it carries the row as it is now,
 * built with the current pipeline config, at a new version.
 */
export async function replay(letters: readonly DeadLetter[], deps: ReplayDeps, opts: { reread?: boolean; dryRun?: boolean } = {}): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const toReread: DeadLetter[] = [];
  for (const d of letters) {
    if (!opts.reread && d.stage === 'indexer' && d.errorType !== 'invalid_event' && d.index && d.id && d.commitLsn) {
      results.push(opts.dryRun ? { ...ids(d), how: 'parked-document', outcome: 'skipped', detail: 'dry run: would write the parked document with its original version' } : await writeParked(d, deps));
    } else toReread.push(d);
  }
  for (const [table, group] of byTable(toReread, deps.pipeline)) {
    if (!table) {
      for (const d of group) results.push({ ...ids(d), how: 'reread', outcome: 'skipped', detail: 'the dead letter names no table and key to re-read (an event that broke the contract before it had one)' });
      continue;
    }
    if (!deps.db) {
      for (const d of group) results.push({ ...ids(d), how: 'reread', outcome: 'skipped', detail: 'set DATABASE_URL: the row is re-read from Postgres' });
      continue;
    }
    if (opts.dryRun) {
      for (const d of group) results.push({ ...ids(d), how: 'reread', outcome: 'skipped', detail: `dry run: would re-read ${table} through the stream` });
      continue;
    }
    results.push(...(await reread(table, group, deps)));
  }
  return results;
}

const ids = (d: DeadLetter) => ({ ref: d.ref, ...(d.index ? { index: d.index } : {}), ...(d.id ? { id: d.id } : {}), ...(d.table ? { table: d.table } : {}) });

async function writeParked(d: DeadLetter, deps: ReplayDeps): Promise<ReplayResult> {
  const base = { ...ids(d), how: 'parked-document' as const };
  const index = d.index!;
  const id = d.id!;
  const version = d.commitLsn!;
  let held: number | undefined;
  try {
    // Which version the index holds is left to Elasticsearch to compare (exactly: a _version read
    // back as a JSON number is rounded past 2^53); this read only tells a missing document.
    const cur = await deps.es.get({ index, id, _source: false }, { ignore: [404] });
    held = cur.found ? cur._version : undefined;
    if (!cur.found) {
      const exists = await rowExists(d, deps);
      if (exists === undefined) return { ...base, outcome: 'skipped', detail: 'the document is not in the index and without DATABASE_URL it cannot be told whether its row was deleted since; set it, or use --reread' };
      if (!exists) return { ...base, outcome: 'superseded', detail: 'the row was deleted since it was parked' };
    }
    const doc = JSON.parse(d.payload) as Record<string, unknown> | null;
    // The version is a decimal LSN that may pass 2^53: sent as text in the query string, exactly.
    if (doc === null) {
      await deps.es.transport.request({ method: 'DELETE', path: `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, querystring: { version, version_type: 'external' } });
    } else {
      await deps.es.transport.request({ method: 'PUT', path: `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, querystring: { version, version_type: 'external' }, body: doc });
    }
    return { ...base, outcome: 'replayed', detail: `${doc === null ? 'deleted' : 'written'} at version ${version}` };
  } catch (err) {
    const e = err as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } } } };
    const type = e.meta?.body?.error?.type;
    if (e.meta?.statusCode === 409 || type === 'version_conflict_engine_exception') return { ...base, outcome: 'superseded', detail: held !== undefined ? `the index holds version ${held} or newer (parked: ${version})` : 'a newer version reached the index meanwhile' };
    if (e.meta?.statusCode === 404 && !type) return { ...base, outcome: 'superseded', detail: 'already deleted' };
    return { ...base, outcome: 'failed', detail: type ? `${type}: ${e.meta?.body?.error?.reason ?? ''}` : errorMessage(err) };
  }
}

/** The table a dead letter's row lives in: the index's own table (a joined document is rebuilt from its root), else the one it names. */
function tableOf(d: DeadLetter, pipeline: PipelineConfig): string | undefined {
  const spec = d.index ? pipeline.indexes.find((i) => i.name === d.index) : undefined;
  if (spec && d.stage === 'indexer') return `${spec.source.schema}.${spec.source.table}`;
  return d.table;
}

function byTable(letters: readonly DeadLetter[], pipeline: PipelineConfig): Map<string | undefined, DeadLetter[]> {
  const out = new Map<string | undefined, DeadLetter[]>();
  for (const d of letters) {
    const t = tableOf(d, pipeline) && keyOf(d) !== undefined ? tableOf(d, pipeline) : undefined;
    out.set(t, [...(out.get(t) ?? []), d]);
  }
  return out;
}

/** The key as column → text: ingest's carry the key, the indexer's the document id (the bare value, or the canonical JSON of a composite key). */
function keyOf(d: DeadLetter, keyColumns?: readonly string[]): Record<string, string> | undefined {
  if (d.key && Object.keys(d.key).length) return Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)]));
  if (d.id === undefined) return undefined;
  if (!keyColumns) return {}; // resolved once the table is described
  if (keyColumns.length === 1) return { [keyColumns[0]!]: d.id };
  try {
    const parsed = JSON.parse(d.id) as Record<string, unknown>;
    return Object.fromEntries(keyColumns.map((c) => [c, String(parsed[c])]));
  } catch {
    return undefined;
  }
}

async function rowExists(d: DeadLetter, deps: ReplayDeps): Promise<boolean | undefined> {
  const table = tableOf(d, deps.pipeline);
  if (!deps.db || !table) return undefined;
  const [schema, name] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
  const rel = await describeTable(deps.db, schema, name);
  const key = keyOf(d, rel.keyColumns);
  if (!key) return undefined;
  const where = rel.keyColumns.map((c, i) => `${q(c)}::text = $${i + 1}`).join(' AND ');
  const { rowCount } = await deps.db.query(`SELECT 1 FROM ${q(schema)}.${q(name)} WHERE ${where}`, rel.keyColumns.map((c) => key[c]));
  return (rowCount ?? 0) > 0;
}

/**
 * Re-reads rows through the stream: a low mark, the rows, a high mark carrying them (ingest
 * publishes them in WAL order, versioned with the high mark's commit), then waits until the
 * index shows a version at least that of the high mark (or no document, for a row that is gone).
 */
async function reread(table: string, letters: readonly DeadLetter[], deps: ReplayDeps): Promise<ReplayResult[]> {
  const db = deps.db!;
  const [schema, name] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
  let rel;
  try {
    rel = await describeTable(db, schema, name);
  } catch (err) {
    return letters.map((d) => ({ ...ids(d), how: 'reread' as const, outcome: 'failed' as const, detail: `cannot describe ${table}: ${errorMessage(err)}` }));
  }
  const keyed = letters.map((d) => ({ d, key: keyOf(d, rel.keyColumns) }));
  const keys = [...new Map(keyed.filter((k) => k.key).map((k) => [JSON.stringify(k.key), k.key!])).values()];
  const id = randomBytes(6).toString('hex');
  const slot = deps.slot;
  await emitRefetch(db, { slot, id, mark: 'low' });
  const where = keys.map((_, r) => `(${rel.keyColumns.map((c, i) => `${q(c)}::text = $${r * rel.keyColumns.length + i + 1}`).join(' AND ')})`).join(' OR ');
  const { rows } = keys.length
    ? await db.query<Record<string, string | null>>({ text: `SELECT ${rel.columns.map((c) => q(c.name)).join(', ')} FROM ${q(schema)}.${q(name)} WHERE ${where}`, values: keys.flatMap((k) => rel.keyColumns.map((c) => k[c])), types: rawText })
    : { rows: [] };
  const highLsn = await emitRefetch(db, { slot, id, mark: 'high', relation: { schema: rel.schema, name: rel.name, keyColumns: rel.keyColumns, columns: rel.columns }, keys, rows });
  const version = BigInt(lsnToDecimal(highLsn)); // the commit of the high mark's transaction comes after it
  const present = new Set(rows.map((r) => JSON.stringify(Object.fromEntries(rel.keyColumns.map((c) => [c, r[c]])))));
  const indexes = deps.pipeline.indexes.filter((i) => `${i.source.schema}.${i.source.table}` === table).map((i) => i.name);
  const out: ReplayResult[] = [];
  const deadline = Date.now() + deps.waitMs;
  for (const { d, key } of keyed) {
    const base = { ...ids(d), table, how: 'reread' as const };
    if (!key) {
      out.push({ ...base, outcome: 'skipped', detail: `its key does not match the key of ${table} (${rel.keyColumns.join(', ')})` });
      continue;
    }
    const docId = rel.keyColumns.length === 1 ? key[rel.keyColumns[0]!]! : d.id ?? '';
    const exists = present.has(JSON.stringify(Object.fromEntries(rel.keyColumns.map((c) => [c, key[c]]))));
    if (!indexes.length) {
      out.push({ ...base, outcome: 'replayed', detail: `${table} re-read at ${highLsn}; it feeds joined documents, which the indexer rebuilds (not checked here)` });
      continue;
    }
    const seen = await until(deadline, async () => {
      for (const index of indexes) {
        const cur = await deps.es.get({ index, id: docId, _source: false }, { ignore: [404] });
        if (exists ? !(cur.found && cur._version !== undefined && BigInt(cur._version) >= version) : cur.found) return false;
      }
      return true;
    });
    out.push({ ...base, outcome: seen ? 'replayed' : 'unconfirmed', detail: seen ? `re-read at ${highLsn}: ${exists ? 'the index holds it at that version or newer' : 'the row is gone, so is its document'}` : `re-read at ${highLsn} but not in ${indexes.join(', ')} within ${deps.waitMs} ms: is ingest running (same SLOT_NAME)? It may have been parked again (npm run dead-letters -- list --since 5m)` });
  }
  return out;
}

async function until(deadline: number, check: () => Promise<boolean>): Promise<boolean> {
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
