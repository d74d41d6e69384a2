import type { PipelineConfig } from '../../config/pipeline';
import { errorMessage } from '../../core/errors';
import { describeTable } from '../../ingest/snapshot/table-reader';
import type { DeadLetter } from './record';
import { ids, keyOf, q, type ReplayDeps, type ReplayResult } from './replay-common';
import { reread } from './reread';

export type { Outcome, ReplayDeps, ReplayResult } from './replay-common';

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
    // `external`, not the pipeline's `external_gte`, on purpose: two changes of one row in one
    // transaction share a commit LSN, so an equal version in the index may be the later change of
    // the parked one's transaction; a replay must write only over an older version, never an equal one.
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
