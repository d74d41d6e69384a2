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
  /**
   * Bumped whenever the table is to be copied again from the start (a schema change): progress of
   * an older generation is never saved over it (saveProgress answers false instead).
   */
  generation: number;
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
  // Added later: a state table of an earlier version gets them in place.
  await db.query(`ALTER TABLE ${STATE_TABLE} ADD COLUMN IF NOT EXISTS columns jsonb, ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0`).catch((err: unknown) => {
    if ((err as { code?: string }).code !== '42701' && (err as { code?: string }).code !== '23505') throw err;
  });
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
  const { rows } = await db.query<{ table_name: string; last_key: string[] | null; rows_done: string; rows_total: string | null; done: boolean; generation: string }>(
    `SELECT table_name, last_key, rows_done, rows_total, done, generation FROM ${STATE_TABLE} WHERE slot_name = $1 AND NOT done ORDER BY table_name`,
    [slot],
  );
  return rows.map((r) => ({ table: r.table_name, lastKey: r.last_key, rowsDone: Number(r.rows_done), rowsTotal: r.rows_total === null ? null : Number(r.rows_total), done: r.done, generation: Number(r.generation) }));
}

/** Saves a chunk's progress; false when the table was set to be copied again meanwhile (its generation moved on). */
export async function saveProgress(db: ClientBase, slot: string, p: TableProgress): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE ${STATE_TABLE} SET last_key = $3, rows_done = $4, rows_total = $5, done = $6, updated_at = now() WHERE slot_name = $1 AND table_name = $2 AND generation = $7`,
    [slot, p.table, p.lastKey === null ? null : JSON.stringify(p.lastKey), p.rowsDone, p.rowsTotal, p.done, p.generation],
  );
  return (rowCount ?? 0) > 0;
}

/** The table's columns as the stream last described them, by table; tables never described are absent. */
export async function readColumns(db: Pick<ClientBase, 'query'>, slot: string): Promise<Map<string, Record<string, number>>> {
  const { rows } = await db.query<{ table_name: string; columns: Record<string, number> | null }>(`SELECT table_name, columns FROM ${STATE_TABLE} WHERE slot_name = $1`, [slot]);
  return new Map(rows.filter((r) => r.columns).map((r) => [r.table_name, r.columns!]));
}

/**
 * Records a new description of the table; with `copyAgain`, in the same statement, sets it to be
 * copied again from the start (a new generation), so a crash right after cannot lose the decision.
 */
export async function saveColumns(db: Pick<ClientBase, 'query'>, slot: string, table: string, columns: Readonly<Record<string, number>>, copyAgain: boolean): Promise<void> {
  const reset = copyAgain ? ', last_key = NULL, rows_done = 0, rows_total = NULL, done = false, generation = generation + 1' : '';
  await db.query(`UPDATE ${STATE_TABLE} SET columns = $3${reset}, updated_at = now() WHERE slot_name = $1 AND table_name = $2`, [slot, table, JSON.stringify(columns)]);
}

/** Sets a table to be copied again from the start (a new generation), keeping its description. */
export async function copyTableAgain(db: Pick<ClientBase, 'query'>, slot: string, table: string): Promise<void> {
  await db.query(`UPDATE ${STATE_TABLE} SET last_key = NULL, rows_done = 0, rows_total = NULL, done = false, generation = generation + 1, updated_at = now() WHERE slot_name = $1 AND table_name = $2`, [slot, table]);
}
