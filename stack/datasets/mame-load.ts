/**
 * Bulk loader for parsed MAME entries. Each batch is its own transaction because the
 * logical-replication consumer downstream acknowledges per commit: one giant transaction would
 * reach Kafka only at the very end, and all at once.
 */
import type { ClientBase } from 'pg';
import type { MameEntry } from './mame-normalise';

/** Column order of every INSERT; typed against MameEntry so a renamed field fails to compile. */
export const MAME_COLUMNS = [
  'id',
  'list',
  'list_description',
  'name',
  'title',
  'alt_title',
  'cloneof',
  'year',
  'year_text',
  'release_date',
  'publisher',
  'developer',
  'supported',
  'rom_bytes',
  'notes',
] as const satisfies ReadonlyArray<keyof MameEntry>;

export interface LoadOptions {
  /** Rows per transaction (default 1000). */
  batchRows?: number;
  /**
   * After each commit: entries sent so far, and how many of them became new rows (the rest
   * already existed or repeated an id).
   */
  onProgress?: (rowsDone: number, rowsInserted: number) => void;
}

// Postgres allows 65535 bind parameters per statement; a larger batch is split into several
// INSERTs inside the same transaction so the commit boundaries stay what the caller asked for.
const MAX_PARAMS = 65535;
const ROWS_PER_STATEMENT = Math.floor(MAX_PARAMS / MAME_COLUMNS.length);

/** Creates `table` if missing and inserts every entry; returns the number of rows inserted. */
export async function loadMame(
  client: ClientBase,
  table: string,
  entries: AsyncIterable<MameEntry>,
  opts: LoadOptions = {},
): Promise<number> {
  const batchRows = opts.batchRows ?? 1000;
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  }
  const qtable = quoteTableName(table);
  await client.query(createTableSql(qtable));

  let done = 0;
  let inserted = 0;
  let batch: MameEntry[] = [];
  const flush = async (): Promise<void> => {
    inserted += await insertBatch(client, qtable, batch, done);
    done += batch.length;
    batch = [];
    opts.onProgress?.(done, inserted);
  };
  for await (const entry of entries) {
    batch.push(entry);
    if (batch.length >= batchRows) await flush();
  }
  if (batch.length > 0) await flush();
  return inserted;
}

/** One transaction; rolled back whole on any error so a retry can start from the same batch. */
async function insertBatch(client: ClientBase, qtable: string, rows: MameEntry[], offset: number): Promise<number> {
  await client.query('BEGIN');
  try {
    let inserted = 0;
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const { text, values } = insertSql(qtable, rows.slice(i, i + ROWS_PER_STATEMENT));
      inserted += (await client.query(text, values)).rowCount ?? 0;
    }
    await client.query('COMMIT');
    return inserted;
  } catch (err) {
    // The original error matters more than a failed rollback (e.g. on a dropped connection).
    await client.query('ROLLBACK').catch(() => undefined);
    const first = rows[0]?.id ?? '?';
    throw new Error(`Loading MAME rows ${offset + 1}..${offset + rows.length} (from ${first}) into ${qtable} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Multi-row parameterised INSERT; values never touch the SQL text. */
export function insertSql(qtable: string, rows: ReadonlyArray<MameEntry>): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const ph = MAME_COLUMNS.map((col) => {
      values.push(row[col]);
      return `$${values.length}`;
    });
    return `(${ph.join(',')})`;
  });
  return {
    text: `INSERT INTO ${qtable} (${MAME_COLUMNS.join(', ')}) VALUES ${tuples.join(',')} ON CONFLICT (id) DO NOTHING`,
    values,
  };
}

export function createTableSql(qtable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qtable} (
  id text PRIMARY KEY,
  list text NOT NULL,
  list_description text,
  name text NOT NULL,
  title text NOT NULL,
  alt_title text,
  cloneof text,
  year integer,
  year_text text,
  release_date date,
  publisher text,
  developer text,
  supported text NOT NULL DEFAULT 'yes',
  rom_bytes bigint NOT NULL DEFAULT 0,
  notes text
)`;
}

/**
 * `software` → `"software"`, `public.software` → `"public"."software"`. Each part is quoted, so
 * any characters are safe but case is kept as given (`Software` is not `software`). Over-long
 * parts are refused because Postgres would silently truncate them to another name.
 */
export function quoteTableName(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0 || Buffer.byteLength(p) > 63 || p.includes('\0'))) {
    throw new Error(`Invalid table name ${JSON.stringify(table)}; expected "table" or "schema.table" (each part 1..63 bytes).`);
  }
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}
