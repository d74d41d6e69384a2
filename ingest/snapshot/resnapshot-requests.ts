import type { ClientBase } from 'pg';

/**
 * Re-snapshot requests: one table, a key range of it, or a list of keys, to copy again through the
 * watermark snapshot while the stream runs. Kept in the source database beside the snapshot state
 * (snapshot-state.ts), keyed by slot: a command writes a row, the ingest streaming that slot picks it
 * up (it polls; a restart resumes from the row's saved position), so a request outlives the command,
 * an ingest restart and a crash, and only the one ingest holding the slot acts on it.
 */
export const REQUEST_TABLE = 'search_pipeline_resnapshot';

/** Key column values as text, in key order (as snapshot positions are kept). */
export type KeyTexts = string[];

export interface ResnapshotScope {
  /** Inclusive bounds; undefined = open. Both undefined and no `keys`: the whole table. */
  from?: KeyTexts;
  to?: KeyTexts;
  /** Exactly these keys: rows found are copied, keys without a row are deleted from the index. */
  keys?: KeyTexts[];
}

export interface ResnapshotRequest extends ResnapshotScope {
  id: number;
  table: string;
  reason: string;
  /** Range: the last key copied. */
  lastKey: KeyTexts | null;
  /** Keys: how many of `keys` are done. */
  keysDone: number;
  rowsDone: number;
  done: boolean;
  error: string | null;
  requestedAt: Date;
  finishedAt: Date | null;
}

export async function ensureRequestTable(db: ClientBase): Promise<void> {
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS ${REQUEST_TABLE} (
      id bigserial PRIMARY KEY,
      slot_name text NOT NULL,
      table_name text NOT NULL,
      from_key jsonb,
      to_key jsonb,
      keys jsonb,
      reason text NOT NULL DEFAULT '',
      last_key jsonb,
      keys_done int NOT NULL DEFAULT 0,
      rows_done bigint NOT NULL DEFAULT 0,
      done boolean NOT NULL DEFAULT false,
      error text,
      requested_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz)`);
  } catch (err) {
    // Two processes creating it at once: IF NOT EXISTS races on the catalog; the other one won.
    if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07') throw err;
  }
}

export async function requestResnapshot(db: ClientBase, slot: string, table: string, scope: ResnapshotScope, reason: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO ${REQUEST_TABLE} (slot_name, table_name, from_key, to_key, keys, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [slot, table, json(scope.from), json(scope.to), json(scope.keys), reason],
  );
  return Number(rows[0]!.id);
}

const COLUMNS = 'id, table_name, from_key, to_key, keys, reason, last_key, keys_done, rows_done, done, error, requested_at, finished_at';
interface Row { id: string; table_name: string; from_key: KeyTexts | null; to_key: KeyTexts | null; keys: KeyTexts[] | null; reason: string; last_key: KeyTexts | null; keys_done: number; rows_done: string; done: boolean; error: string | null; requested_at: Date; finished_at: Date | null }
const toRequest = (r: Row): ResnapshotRequest => ({
  id: Number(r.id), table: r.table_name, from: r.from_key ?? undefined, to: r.to_key ?? undefined, keys: r.keys ?? undefined, reason: r.reason,
  lastKey: r.last_key, keysDone: r.keys_done, rowsDone: Number(r.rows_done), done: r.done, error: r.error, requestedAt: r.requested_at, finishedAt: r.finished_at,
});

/** Open requests of a slot, oldest first. */
export async function pendingRequests(db: Pick<ClientBase, 'query'>, slot: string): Promise<ResnapshotRequest[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM ${REQUEST_TABLE} WHERE slot_name = $1 AND NOT done ORDER BY id`, [slot]);
  return rows.map(toRequest);
}

export async function hasPendingRequests(db: Pick<ClientBase, 'query'>, slot: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${REQUEST_TABLE} WHERE slot_name = $1 AND NOT done LIMIT 1`, [slot]);
  return (rowCount ?? 0) > 0;
}

export async function readRequest(db: Pick<ClientBase, 'query'>, id: number): Promise<ResnapshotRequest | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM ${REQUEST_TABLE} WHERE id = $1`, [id]);
  return rows[0] && toRequest(rows[0]);
}

/** Saves the position after a chunk Kafka acknowledged (never ahead of it, like the snapshot state). */
export async function saveRequestProgress(db: Pick<ClientBase, 'query'>, r: Pick<ResnapshotRequest, 'id' | 'lastKey' | 'keysDone' | 'rowsDone' | 'done'>): Promise<void> {
  await db.query(
    `UPDATE ${REQUEST_TABLE} SET last_key = $2, keys_done = $3, rows_done = $4, done = $5, finished_at = CASE WHEN $5 THEN now() END WHERE id = $1`,
    [r.id, json(r.lastKey ?? undefined), r.keysDone, r.rowsDone, r.done],
  );
}

/** Ends a request that cannot be carried out (its table left the pipeline, or is gone), saying why. */
export async function failRequest(db: Pick<ClientBase, 'query'>, id: number, error: string): Promise<void> {
  await db.query(`UPDATE ${REQUEST_TABLE} SET done = true, error = $2, finished_at = now() WHERE id = $1`, [id, error]);
}

/** A new slot copies every table: open requests are covered by that and closed. */
export async function supersedeRequests(db: Pick<ClientBase, 'query'>, slot: string, why: string): Promise<void> {
  await db.query(`UPDATE ${REQUEST_TABLE} SET done = true, error = $2, finished_at = now() WHERE slot_name = $1 AND NOT done`, [slot, why]);
}

/** For tests and cleanup. */
export async function deleteRequests(db: Pick<ClientBase, 'query'>, slot: string): Promise<void> {
  await db.query(`DELETE FROM ${REQUEST_TABLE} WHERE slot_name = $1`, [slot]);
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
