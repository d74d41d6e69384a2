/**
 * What the join code needs to know of each table in an index's relation tree: its columns with
 * their types (values are converted by type, like ingest converts pgoutput's text) and the key
 * its change events carry (the primary key, or the REPLICA IDENTITY USING INDEX index, as ingest
 * chooses it), which names the rows in a document's `_refs`.
 */
export interface ColumnInfo { name: string; typeOid: number; /** format_type(), usable in a cast. */ type: string }

export interface TableInfo {
  schema: string;
  table: string;
  columns: readonly ColumnInfo[];
  /** Key columns in index order; empty when the table has no key. */
  key: readonly string[];
}

/** Tables by `schema.table`. */
export type Catalog = ReadonlyMap<string, TableInfo>;

/** The part of a pg client the join code uses, so tests and callers pass any pg Client or Pool. */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  /** A named query is prepared once per connection: its plan is kept (pg's query config). */
  query<R = Record<string, unknown>>(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

export const tableName = (t: { schema: string; table: string }): string => `${t.schema}.${t.table}`;

export function tableInfo(catalog: Catalog, t: { schema: string; table: string }): TableInfo {
  const info = catalog.get(tableName(t));
  // check-relations refuses to start first; reaching this is a bug, not a config problem.
  if (!info) throw new Error(`no catalog entry for ${tableName(t)}`);
  return info;
}

export function column(info: TableInfo, name: string): ColumnInfo {
  const c = info.columns.find((col) => col.name === name);
  if (!c) throw new Error(`${tableName(info)} has no column ${name}`);
  return c;
}

/** Reads the catalog entries of `tables`; a table that does not exist is simply absent. */
export async function readCatalog(db: SqlClient, tables: readonly { schema: string; table: string }[]): Promise<Catalog> {
  const schemas = tables.map((t) => t.schema);
  const names = tables.map((t) => t.table);
  const cols = await db.query<{ schema: string; table: string; name: string; oid: number; type: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, a.atttypid::int AS oid, format_type(a.atttypid, NULL) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY n.nspname, c.relname, a.attnum`,
    [schemas, names],
  );
  // The replica identity index wins over the primary key, as in ingest's events.
  const keys = await db.query<{ schema: string; table: string; key: string[] }>(
    `SELECT DISTINCT ON (c.oid) n.nspname AS schema, c.relname AS table,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS key
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        AND (i.indisprimary OR (i.indisreplident AND c.relreplident = 'i'))
      ORDER BY c.oid, (i.indisreplident AND c.relreplident = 'i') DESC`,
    [schemas, names],
  );
  const catalog = new Map<string, TableInfo>();
  for (const r of cols.rows) {
    const name = tableName(r);
    let info = catalog.get(name);
    if (!info) catalog.set(name, (info = { schema: r.schema, table: r.table, columns: [], key: [] }));
    (info.columns as ColumnInfo[]).push({ name: r.name, typeOid: r.oid, type: r.type });
  }
  for (const r of keys.rows) {
    const info = catalog.get(tableName(r));
    if (info) catalog.set(tableName(r), { ...info, key: r.key });
  }
  return catalog;
}
