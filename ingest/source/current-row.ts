import type { ClientBase } from 'pg';
import type { RawTuple, RelationInfo } from '../transform/to-change-events';

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
/** Values as Postgres prints them, like pgoutput sends them, so one conversion serves both. */
const rawText = { getTypeParser: () => (value: string) => value };

/**
 * Reads some columns of one row as it is now, by its key columns' text values; undefined when
 * no row has that key any more. `xid`: the transaction whose change asks (its commit was just
 * streamed), which a read must see. A port so the stream handler can be tested without Postgres.
 */
export type CurrentRowReader = (relation: RelationInfo, key: Readonly<Record<string, string>>, columns: readonly string[], xid?: number) => Promise<RawTuple | undefined>;

/**
 * Whether a snapshot taken now sees the transaction with 32-bit id $1. The walsender can send a
 * commit before the committing session is out of the proc array (the commit is flushed to WAL
 * first), so for a moment a read right after the commit arrives does not see it: a row moved to a
 * new key is not found there yet. The id gets the epoch of the snapshot's xmax (or the one before,
 * when its low bits are above xmax's: it wrapped since).
 */
const VISIBLE = `WITH n AS (SELECT pg_current_snapshot() AS s),
  x AS (SELECT s, pg_snapshot_xmax(s)::text::bigint AS xmax, ((pg_snapshot_xmax(s)::text::bigint >> 32) << 32) | $1::bigint AS fx FROM n)
  SELECT pg_visible_in_snapshot((CASE WHEN fx >= xmax THEN fx - 4294967296 ELSE fx END)::text::xid8, s) AS visible FROM x`;

/** How long a row is waited for while its transaction is not visible yet (it takes microseconds; this bounds a surprise). */
const VISIBLE_WAIT_MS = 5_000;

/** undefined_column, undefined_table, invalid_text_representation (a key column retyped since). */
const GONE = new Set(['42703', '42P01', '22P02']);

export function pgCurrentRowReader(db: Pick<ClientBase, 'query'>, visibleWaitMs = VISIBLE_WAIT_MS): CurrentRowReader {
  return async (relation, key, columns, xid) => {
    const names = Object.keys(key);
    const where = names.map((k, i) => `${q(k)} = $${i + 1}`).join(' AND ');
    const text = `SELECT ${columns.map(q).join(', ')} FROM ${q(relation.schema)}.${q(relation.name)} WHERE ${where}`;
    const read = async (): Promise<RawTuple | undefined> => {
      try {
        const { rows } = await db.query<RawTuple>({ text, values: names.map((k) => key[k]), types: rawText });
        return rows[0];
      } catch (err) {
        // Dropped or renamed since (DDL later in the WAL): the row as the change saw it is gone too.
        if (GONE.has((err as { code?: string }).code ?? '')) return undefined;
        throw err;
      }
    };
    let row = await read();
    if (row || xid === undefined) return row;
    // Not found: gone for good only if the read could see the transaction. Visible before a read
    // means that read's snapshot sees it too.
    const until = Date.now() + visibleWaitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      const visible = (await db.query<{ visible: boolean }>(VISIBLE, [xid])).rows[0]?.visible === true;
      row = await read();
      if (row || visible || Date.now() > until) return row;
      await new Promise((r) => setTimeout(r, pause));
    }
  };
}
