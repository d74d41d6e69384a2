import type { ClientBase } from 'pg';
import { NoPrimaryKeyError, type RawTuple, type RelationInfo } from '../transform/to-change-events';

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

/**
 * The table as the stream describes it: the columns pgoutput sends (not dropped, not generated),
 * with the type OIDs the stream's value conversion uses, and the key in index order (the keyset
 * order of the snapshot): the replica identity index if set, else the primary key (pg-setup.ts).
 */
export async function describeTable(db: Pick<ClientBase, 'query'>, schema: string, table: string): Promise<RelationInfo> {
  const cols = await db.query<{ name: string; oid: number }>(
    `SELECT a.attname AS name, a.atttypid::int AS oid
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`,
    [schema, table],
  );
  const keys = await db.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE i.indexrelid = (SELECT i2.indexrelid FROM pg_index i2
                               JOIN pg_class c2 ON c2.oid = i2.indrelid JOIN pg_namespace n2 ON n2.oid = c2.relnamespace
                              WHERE n2.nspname = $1 AND c2.relname = $2 AND (i2.indisprimary OR (i2.indisreplident AND c2.relreplident = 'i'))
                              ORDER BY (i2.indisreplident AND c2.relreplident = 'i') DESC LIMIT 1)
      ORDER BY k.ord`,
    [schema, table],
  );
  // Keyset paging needs a unique order; a REPLICA IDENTITY FULL table without a key has none.
  if (keys.rows.length === 0) throw new NoPrimaryKeyError(`${schema}.${table}`);
  return { schema, name: table, keyColumns: keys.rows.map((r) => r.name), columns: cols.rows.map((r) => ({ name: r.name, typeOid: r.oid })) };
}

/** Values as Postgres prints them, like pgoutput sends them: converted by the same code afterwards. */
const rawText = { getTypeParser: () => (value: string) => value };

/** The next `limit` rows after `afterKey` (key column texts) in primary-key order. */
export async function readChunk(db: ClientBase, rel: RelationInfo, afterKey: readonly string[] | null, limit: number): Promise<RawTuple[]> {
  const keys = rel.keyColumns.map(q).join(', ');
  const where = afterKey ? `WHERE (${keys}) > (${afterKey.map((_, i) => `$${i + 1}`).join(', ')})` : '';
  const text = `SELECT ${rel.columns.map((c) => q(c.name)).join(', ')} FROM ${q(rel.schema)}.${q(rel.name)} ${where} ORDER BY ${keys} LIMIT ${Math.floor(limit)}`;
  const { rows } = await db.query<RawTuple>({ text, values: afterKey ? [...afterKey] : [], types: rawText });
  return rows;
}

export function keyTexts(rel: RelationInfo, row: RawTuple): string[] {
  return rel.keyColumns.map((k) => row[k] as string);
}

export async function countRows(db: ClientBase, schema: string, table: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(schema)}.${q(table)}`);
  return Number(rows[0]?.n ?? 0);
}

/** As readChunk, bounded by inclusive `from` / `to` keys (either may be open). */
export async function readRangeChunk(db: ClientBase, rel: RelationInfo, range: { from?: readonly string[]; to?: readonly string[] }, afterKey: readonly string[] | null, limit: number): Promise<RawTuple[]> {
  const keys = `(${rel.keyColumns.map(q).join(', ')})`;
  const values: string[] = [];
  const tuple = (texts: readonly string[]): string => `(${texts.map((t) => (values.push(t), `$${values.length}`)).join(', ')})`;
  const where: string[] = [];
  if (afterKey) where.push(`${keys} > ${tuple(afterKey)}`);
  else if (range.from) where.push(`${keys} >= ${tuple(range.from)}`);
  if (range.to) where.push(`${keys} <= ${tuple(range.to)}`);
  const text = `SELECT ${rel.columns.map((c) => q(c.name)).join(', ')} FROM ${q(rel.schema)}.${q(rel.name)} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${keys.slice(1, -1)} LIMIT ${Math.floor(limit)}`;
  const { rows } = await db.query<RawTuple>({ text, values, types: rawText });
  return rows;
}

/** The rows of exactly these keys (key column texts, in key order) that exist. */
export async function readKeys(db: ClientBase, rel: RelationInfo, keyList: ReadonlyArray<readonly string[]>): Promise<RawTuple[]> {
  if (!keyList.length) return [];
  const keys = `(${rel.keyColumns.map(q).join(', ')})`;
  const values: string[] = [];
  const tuples = keyList.map((k) => `(${k.map((t) => (values.push(t), `$${values.length}`)).join(', ')})`);
  const text = `SELECT ${rel.columns.map((c) => q(c.name)).join(', ')} FROM ${q(rel.schema)}.${q(rel.name)} WHERE ${keys} IN (${tuples.join(', ')}) ORDER BY ${keys.slice(1, -1)}`;
  const { rows } = await db.query<RawTuple>({ text, values, types: rawText });
  return rows;
}
