import type { ClientBase } from 'pg';

/**
 * Snapshot progress, kept in the source database beside the data it describes (one row per slot
 * and table), so a restart resumes from the last chunk Kafka acknowledged instead of starting over.
 * A row is written only after its chunk's events were acknowledged, so it never runs ahead of Kafka.
 */
export const STATE_TABLE = 'search_pipeline_snapshot';

export interface TableProgress {
  table: string;
  /** Key column values (text) of the last acknowledged row, in key order; null = from the start. */
  lastKey: string[] | null;
  rowsDone: number;
  rowsTotal: number | null;
  done: boolean;
}

export async function ensureStateTable(db: ClientBase): Promise<void> {
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (
      slot_name text NOT NULL,
      table_name text NOT NULL,
      last_key jsonb,
      rows_done bigint NOT NULL DEFAULT 0,
      rows_total bigint,
      done boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (slot_name, table_name))`);
  } catch (err) {
    // Two ingests creating it at once: IF NOT EXISTS races on the catalog; the other one won.
    if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07') throw err;
  }
}

export async function hasState(db: ClientBase, slot: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${STATE_TABLE} WHERE slot_name = $1 LIMIT 1`, [slot]);
  return (rowCount ?? 0) > 0;
}

/** Forgets all progress of a slot: every table is copied again. */
export async function resetState(db: ClientBase, slot: string): Promise<void> {
  await db.query(`DELETE FROM ${STATE_TABLE} WHERE slot_name = $1`, [slot]);
}

/** Registers tables not seen before (a new slot, or tables added to the pipeline later) as to be copied. */
export async function addTables(db: ClientBase, slot: string, tables: readonly string[]): Promise<void> {
  for (const t of tables) await db.query(`INSERT INTO ${STATE_TABLE} (slot_name, table_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [slot, t]);
}

export async function pendingTables(db: ClientBase, slot: string): Promise<TableProgress[]> {
  const { rows } = await db.query<{ table_name: string; last_key: string[] | null; rows_done: string; rows_total: string | null; done: boolean }>(
    `SELECT table_name, last_key, rows_done, rows_total, done FROM ${STATE_TABLE} WHERE slot_name = $1 AND NOT done ORDER BY table_name`,
    [slot],
  );
  return rows.map((r) => ({ table: r.table_name, lastKey: r.last_key, rowsDone: Number(r.rows_done), rowsTotal: r.rows_total === null ? null : Number(r.rows_total), done: r.done }));
}

export async function saveProgress(db: ClientBase, slot: string, p: TableProgress): Promise<void> {
  await db.query(
    `UPDATE ${STATE_TABLE} SET last_key = $3, rows_done = $4, rows_total = $5, done = $6, updated_at = now() WHERE slot_name = $1 AND table_name = $2`,
    [slot, p.table, p.lastKey === null ? null : JSON.stringify(p.lastKey), p.rowsDone, p.rowsTotal, p.done],
  );
}
