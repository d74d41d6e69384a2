import type { Client } from 'pg';

/** Scans and rows read of a set of tables, from pg_stat_user_tables (sequential and index apart). */
export interface TableStats { scans: number; rows: number; seqScans: number; seqRows: number; idxScans: number; idxRows: number }

/** The tables of one schema, or the named tables (`schema.table` or a bare name in any schema). */
export type TableSet = { schema: string } | { tables: readonly string[] };

export async function tableStats(db: Client, of: TableSet): Promise<TableStats> {
  const [where, params] = 'schema' in of
    ? ['schemaname = $1', [of.schema]]
    : ['(relname = ANY($1::text[]) OR schemaname || \'.\' || relname = ANY($1::text[]))', [of.tables]];
  const { rows } = await db.query<{ seq_scan: string; seq_tup_read: string; idx_scan: string; idx_tup_fetch: string }>(
    `SELECT coalesce(sum(seq_scan), 0) AS seq_scan, coalesce(sum(seq_tup_read), 0) AS seq_tup_read, coalesce(sum(idx_scan), 0) AS idx_scan, coalesce(sum(idx_tup_fetch), 0) AS idx_tup_fetch
       FROM pg_stat_user_tables WHERE ${where}`, params);
  const r = rows[0]!;
  const s = { seqScans: Number(r.seq_scan), seqRows: Number(r.seq_tup_read), idxScans: Number(r.idx_scan), idxRows: Number(r.idx_tup_fetch) };
  return { ...s, scans: s.seqScans + s.idxScans, rows: s.seqRows + s.idxRows };
}

export const minus = (a: TableStats, b: TableStats): TableStats => ({ scans: a.scans - b.scans, rows: a.rows - b.rows, seqScans: a.seqScans - b.seqScans, seqRows: a.seqRows - b.seqRows, idxScans: a.idxScans - b.idxScans, idxRows: a.idxRows - b.idxRows });

/**
 * A backend with table statistics still pending flushes them when idle, after up to 10 s
 * (PGSTAT_IDLE_INTERVAL): wait that out, so what others read before is in and nothing is late.
 */
export async function settledStats(db: Client, of: TableSet): Promise<TableStats> {
  await new Promise((r) => setTimeout(r, 11_000));
  return tableStats(db, of);
}
