/**
 * Bulk loader for parsed MAME entries. Each batch is its own transaction because the
 * logical-replication consumer downstream acknowledges per commit: one giant transaction would
 * reach Kafka only at the very end, and all at once.
 */
import type { ClientBase } from 'pg';
import type { MameEntry, MameRecord } from './mame-normalise';
import { appendRows, createMameSplitter, SPLIT_TABLES, type MameParents, type SplitRows } from './mame-split';

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

const MAX_PARAMS = 65535;

/** Creates `table` if missing and inserts every entry; returns the number of rows inserted. */
export async function loadMame(
  client: ClientBase,
  table: string,
  entries: AsyncIterable<MameEntry>,
  opts: LoadOptions = {},
): Promise<number> {
  const batchRows = checkBatchRows(opts.batchRows);
  const qtable = quoteTableName(table);
  await client.query(createTableSql(qtable));

  let done = 0;
  let inserted = 0;
  let batch: MameEntry[] = [];
  const flush = async (): Promise<void> => {
    inserted += (await commitBatch(client, [{ qtable, columns: MAME_COLUMNS, key: ['id'], rows: batch }], rowsText(done, batch)))[0]!;
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

/** What loadMameDemo writes: the flat table, the split tables (mame-split.ts), or both. */
export interface DemoTargets {
  /** The flat table (`public.software`); left alone when undefined. */
  software?: string;
  /** Schema of software_lists, publishers, titles and parts; left alone when undefined. */
  splitSchema?: string;
  /**
   * With splitSchema: every list and publisher (mameParents), committed in a transaction of their
   * own before any title. A parent's change rebuilds every joined document that holds it; committed
   * first, it reaches the indexer while few titles exist, instead of rebuilding each title once
   * more per parent. On the full lists the indexer wrote 0 documents for the lists' events and
   * 1,000 for the publishers' (291,426 rebuilds in all), against 133,294 for the lists' alone
   * when they were loaded beside their titles. It depends on the indexer reading the parents'
   * topics early, which nothing guarantees: a late parent costs rebuilds, never correctness.
   */
  parents?: MameParents;
}

export type DemoCounts = { software: number } & { [K in keyof SplitRows]: number };

/** DDL of the split tables in `schema`, parents first. */
export function splitTablesSql(schema: string): string[] {
  return SPLIT_TABLES.flatMap((t) => t.ddl((name) => quoteTableName(`${schema}.${name}`)));
}

/**
 * One pass over the parser's records into every target, each batch of records one transaction
 * across all the tables (parents inserted before children, so foreign keys hold at every
 * commit). Returns the rows inserted per table; `onProgress` gets records done and flat rows inserted.
 */
export async function loadMameDemo(
  client: ClientBase,
  records: AsyncIterable<MameRecord>,
  targets: DemoTargets,
  opts: LoadOptions = {},
): Promise<DemoCounts> {
  const batchRows = checkBatchRows(opts.batchRows);
  const flat = targets.software === undefined ? undefined : quoteTableName(targets.software);
  const schema = targets.splitSchema;
  if (flat) await client.query(createTableSql(flat));
  if (schema !== undefined) for (const sql of splitTablesSql(schema)) await client.query(sql);
  const splitter = schema === undefined ? undefined : createMameSplitter(targets.parents);
  const counts: DemoCounts = { software: 0, software_lists: 0, publishers: 0, titles: 0, parts: 0 };
  if (schema !== undefined && targets.parents) {
    const tables = SPLIT_TABLES.filter((t) => t.name === 'software_lists' || t.name === 'publishers');
    const inserted = await commitBatch(client, tables.map((t) => ({ qtable: quoteTableName(`${schema}.${t.name}`), columns: t.columns, key: t.key, rows: targets.parents![t.name as keyof MameParents] })), 'lists and publishers');
    tables.forEach((t, i) => (counts[t.name] += inserted[i]!));
  }

  let done = 0;
  let entries: MameEntry[] = [];
  let split: SplitRows = { software_lists: [], publishers: [], titles: [], parts: [] };
  const flush = async (): Promise<void> => {
    const tables: Array<TableBatch & { count: keyof DemoCounts }> = [];
    if (flat) tables.push({ qtable: flat, columns: MAME_COLUMNS, key: ['id'], rows: entries, count: 'software' });
    if (schema !== undefined) {
      for (const t of SPLIT_TABLES) tables.push({ qtable: quoteTableName(`${schema}.${t.name}`), columns: t.columns, key: t.key, rows: split[t.name], count: t.name });
    }
    const inserted = await commitBatch(client, tables, rowsText(done, entries));
    tables.forEach((t, i) => (counts[t.count] += inserted[i]!));
    done += entries.length;
    entries = [];
    split = { software_lists: [], publishers: [], titles: [], parts: [] };
    opts.onProgress?.(done, counts.software);
  };
  for await (const record of records) {
    entries.push(record.entry);
    if (splitter) appendRows(split, splitter.split(record));
    if (entries.length >= batchRows) await flush();
  }
  if (entries.length > 0) await flush();
  return counts;
}

const rowsText = (offset: number, rows: ReadonlyArray<MameEntry>): string => `rows ${offset + 1}..${offset + rows.length} (from ${rows[0]?.id ?? '?'})`;

function checkBatchRows(batchRows = 1000): number {
  if (!Number.isInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  }
  return batchRows;
}

interface TableBatch {
  qtable: string;
  columns: ReadonlyArray<string>;
  key: ReadonlyArray<string>;
  rows: ReadonlyArray<object>;
}

/**
 * One transaction over every table's rows, in the order given; rolled back whole on any error so
 * a retry can start from the same batch. Returns the rows inserted per table.
 */
async function commitBatch(client: ClientBase, tables: ReadonlyArray<TableBatch>, what: string): Promise<number[]> {
  await client.query('BEGIN');
  try {
    const inserted: number[] = [];
    for (const t of tables) {
      let n = 0;
      // Postgres allows 65535 bind parameters per statement; a larger batch is split into several
      // INSERTs inside the same transaction so the commit boundaries stay what the caller asked for.
      const perStatement = Math.floor(MAX_PARAMS / t.columns.length);
      for (let i = 0; i < t.rows.length; i += perStatement) {
        const { text, values } = insertRowsSql(t.qtable, t.columns, t.key, t.rows.slice(i, i + perStatement));
        n += (await client.query(text, values)).rowCount ?? 0;
      }
      inserted.push(n);
    }
    await client.query('COMMIT');
    return inserted;
  } catch (err) {
    // The original error matters more than a failed rollback (e.g. on a dropped connection).
    await client.query('ROLLBACK').catch(() => undefined);
    const into = tables.map((t) => t.qtable).join(', ');
    throw new Error(`Loading MAME ${what} into ${into} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Multi-row parameterised INSERT; values never touch the SQL text. */
export function insertSql(qtable: string, rows: ReadonlyArray<MameEntry>): { text: string; values: unknown[] } {
  return insertRowsSql(qtable, MAME_COLUMNS, ['id'], rows);
}

/** INSERT of `rows` (objects keyed by column) that skips rows whose `key` already exists. */
export function insertRowsSql(qtable: string, columns: ReadonlyArray<string>, key: ReadonlyArray<string>, rows: ReadonlyArray<object>): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const ph = columns.map((col) => {
      values.push((row as Record<string, unknown>)[col]);
      return `$${values.length}`;
    });
    return `(${ph.join(',')})`;
  });
  return {
    text: `INSERT INTO ${qtable} (${columns.join(', ')}) VALUES ${tuples.join(',')} ON CONFLICT (${key.join(', ')}) DO NOTHING`,
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
