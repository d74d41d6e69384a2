import type { ClientBase } from 'pg';
import { PipelineError } from '../../core/errors';

export interface TableRef { schema: string; table: string }

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
const qualified = (t: TableRef): string => `${q(t.schema)}.${q(t.table)}`;

/** Key columns by "schema.table": the replica identity index if one is set, else the primary key. */
export type KeyColumns = ReadonlyMap<string, readonly string[]>;

/**
 * Refuses tables that cannot become documents, and returns each table's key columns. A table
 * needs a primary key, or a REPLICA IDENTITY USING INDEX (unique, not null), which then wins:
 * the document id is what pgoutput sends as the old key.
 * REPLICA IDENTITY FULL alone is refused: rows equal in every column could not be told apart,
 * so deleting one would delete the document of both.
 */
export async function checkTables(db: ClientBase, tables: TableRef[]): Promise<KeyColumns> {
  const keys = new Map<string, string[]>();
  for (const t of tables) {
    const { rows } = await db.query<{ relreplident: string; pk: string[] | null; ident: string[] | null }>(
      `SELECT c.relreplident,
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                 JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i
                 JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisreplident) AS ident
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [t.schema, t.table],
    );
    const row = rows[0];
    if (!row) {
      throw new PipelineError(`table ${t.schema}.${t.table} named in the pipeline config does not exist in the database. Create it, or fix "table" in the pipeline config.`, { code: 'TABLE_MISSING', retriable: false });
    }
    if (row.relreplident === 'n') {
      throw new PipelineError(`table ${t.schema}.${t.table} has REPLICA IDENTITY NOTHING: Postgres would refuse its updates and deletes once it is published, and none would carry a key. Run ALTER TABLE ${t.schema}.${t.table} REPLICA IDENTITY DEFAULT.`, { code: 'NO_PRIMARY_KEY', retriable: false, context: { table: `${t.schema}.${t.table}` } });
    }
    // The stream's old keys are those of the replica identity, so that index wins over the primary key.
    const key = row.relreplident === 'i' && row.ident ? row.ident : row.pk;
    if (!key?.length) {
      const full = row.relreplident === 'f' ? ' REPLICA IDENTITY FULL is not enough: rows equal in every column could not be told apart.' : '';
      throw new PipelineError(`table ${t.schema}.${t.table} has no primary key, so its changes cannot be mapped to documents.${full} Add a primary key (ALTER TABLE ... ADD PRIMARY KEY (...)), or a unique index on NOT NULL columns with ALTER TABLE ... REPLICA IDENTITY USING INDEX ....`, { code: 'NO_PRIMARY_KEY', retriable: false, context: { table: `${t.schema}.${t.table}` } });
    }
    keys.set(`${t.schema}.${t.table}`, key);
  }
  return keys;
}

/** Creates the publication, or adds the tables it lacks. Never drops a table from it. */
export async function ensurePublication(db: ClientBase, name: string, tables: TableRef[]): Promise<void> {
  const { rows } = await db.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [name],
  );
  const exists = (await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name])).rowCount! > 0;
  if (!exists) {
    await db.query(`CREATE PUBLICATION ${q(name)} FOR TABLE ${tables.map(qualified).join(', ')}`);
    return;
  }
  const have = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const missing = tables.filter((t) => !have.has(`${t.schema}.${t.table}`));
  if (missing.length) await db.query(`ALTER PUBLICATION ${q(name)} ADD TABLE ${missing.map(qualified).join(', ')}`);
}

export interface SlotRow {
  plugin: string;
  confirmedFlushLsn: string | null;
  /** reserved | extended | unreserved | lost (pg_replication_slots.wal_status). */
  walStatus: string | null;
}

export async function readSlot(db: ClientBase, slot: string): Promise<SlotRow | undefined> {
  const { rows } = await db.query<{ plugin: string; confirmed_flush_lsn: string | null; wal_status: string | null }>(
    'SELECT plugin, confirmed_flush_lsn, wal_status FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const row = rows[0];
  return row && { plugin: row.plugin, confirmedFlushLsn: row.confirmed_flush_lsn, walStatus: row.wal_status };
}

/** Creates the logical slot; returns its consistent point. */
export async function createSlot(db: ClientBase, slot: string): Promise<string | null> {
  const created = await db.query<{ lsn: string }>("SELECT lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  return created.rows[0]?.lsn ?? null;
}

export async function dropSlot(db: ClientBase, slot: string): Promise<void> {
  await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
}
