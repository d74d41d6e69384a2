import { randomBytes } from 'node:crypto';
import { errorMessage } from '../../core/errors';
import { lsnToDecimal } from '../../core/lsn';
import { describeTable } from '../../ingest/snapshot/table-reader';
import { emitRefetch } from '../../ingest/source/pg-messages';
import type { DeadLetter } from './record';
import { ids, keyOf, q, type ReplayDeps, type ReplayResult } from './replay-common';

/** Values as Postgres prints them, as pgoutput sends them: ingest converts both the same way. */
const rawText = { getTypeParser: () => (value: string) => value };

/**
 * Re-reads rows through the stream: a low mark, the rows, a high mark carrying them (ingest
 * publishes them in WAL order, versioned with the high mark's commit), then waits until the
 * index shows a version at least that of the high mark (or no document, for a row that is gone).
 */
export async function reread(table: string, letters: readonly DeadLetter[], deps: ReplayDeps): Promise<ReplayResult[]> {
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
