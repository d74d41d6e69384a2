import type { FieldSpec } from '../../config/pipeline';
import type { ColumnInfo } from './catalog';

/** SQL text helpers of the join queries. Names come from the config, so every one is quoted. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const qualified = (t: { schema: string; table: string }): string => `${ident(t.schema)}.${ident(t.table)}`;
/** A string literal (standard_conforming_strings, on by default since Postgres 9.1). */
export const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

// Type OIDs, as in ingest's conversion of pgoutput text (int8 and numeric stay exact strings).
const AS_JSON = new Set([21, 23, 26, 16, 700, 701]); // int2, int4, oid, bool, float4, float8 (NaN/Infinity become strings)
const JSON_TYPES = new Set([114, 3802]); // json, jsonb
const TIMESTAMPS = new Set([1114, 1184]); // timestamp, timestamptz

/**
 * The jsonb value of a column, equal to what a change event carries for it: numbers for the
 * small integer, float and bool types, the JSON itself for json/jsonb, ISO 8601 timestamps
 * (to_jsonb prints them so; a BC timestamp stays as Postgres prints it, as ingest leaves it), and
 * the exact text for everything else (int8, numeric, date, uuid, arrays...).
 */
export function valueSql(ref: string, col: ColumnInfo): string {
  if (AS_JSON.has(col.typeOid)) return `to_jsonb(${ref})`;
  if (JSON_TYPES.has(col.typeOid)) return `${ref}::jsonb`;
  if (TIMESTAMPS.has(col.typeOid)) return `CASE WHEN ${ref}::text LIKE '% BC' THEN to_jsonb(${ref}::text) ELSE to_jsonb(${ref}) END`;
  return `to_jsonb(${ref}::text)`;
}

/**
 * A field's jsonb value. A text or keyword field over a json column holds the JSON text of an
 * object or array, as buildDocument (config/pipeline-document.ts) writes it (Postgres spaces it as `{"a": 1}`, JSON.stringify
 * does not: the same tokens for search, a different exact value).
 */
export function fieldSql(ref: string, col: ColumnInfo, field: FieldSpec): string {
  const v = valueSql(ref, col);
  if (!JSON_TYPES.has(col.typeOid) || (field.type !== 'text' && field.type !== 'keyword')) return v;
  return `CASE WHEN jsonb_typeof(${v}) IN ('object', 'array') THEN to_jsonb(${v}::text) ELSE ${v} END`;
}

/**
 * The JSON text of a key column's value, equal to `(valueSql(ref, col))::text` but without
 * building a jsonb where the value's own text already is its JSON (an integer) or needs only
 * quotes (int8, oid, numeric, uuid, date: digits, letters, `-`, `.`, `:`, never a quote or backslash).
 * Keys are in every `_refs` entry of every row of a document, so this is much of the query's time.
 */
export function keyValueTextSql(ref: string, col: ColumnInfo): string {
  if (PLAIN_TEXT.has(col.typeOid)) return `${ref}::text`;
  if (QUOTED_TEXT.has(col.typeOid)) return `('"' || ${ref}::text || '"')`;
  return `(${valueSql(ref, col)})::text`;
}
const PLAIN_TEXT = new Set([21, 23]); // int2, int4
const QUOTED_TEXT = new Set([20, 26, 1700, 2950, 1082]); // int8, oid (to_jsonb prints it as a string), numeric, uuid, date

/**
 * The canonical key text of a row (core/change-event.ts canonicalKey: JSON of the key columns
 * sorted by name, no spaces), built in SQL so `_refs` entries equal what an event's key gives.
 */
export function canonicalKeySql(alias: string, key: readonly ColumnInfo[]): string {
  const sorted = [...key].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts = sorted.map((c, i) => `${literal(`${i ? ',' : '{'}${JSON.stringify(c.name)}:`)} || ${keyValueTextSql(`${alias}.${ident(c.name)}`, c)}`);
  return `(${parts.join(' || ')} || '}')`;
}

/** A `_refs` entry as text: `<schema>.<table>:<canonical key>`. */
export function refTextSql(alias: string, table: { schema: string; table: string }, key: readonly ColumnInfo[]): string {
  return `(${literal(`${table.schema}.${table.table}:`)} || ${canonicalKeySql(alias, key)})`;
}

export const isJsonColumn = (col: ColumnInfo): boolean => JSON_TYPES.has(col.typeOid);

/**
 * A `json` object of `pairs` (name, SQL value). Postgres functions take at most 100 arguments:
 * an object of more than 50 keys is built in chunks joined as jsonb (`json` has no `||`).
 */
export function buildJsonObjectSql(pairs: readonly (readonly [string, string])[]): string {
  if (!pairs.length) return `'{}'::json`;
  const chunks: string[] = [];
  for (let i = 0; i < pairs.length; i += 50) chunks.push(`json_build_object(${pairs.slice(i, i + 50).map(([k, v]) => `${literal(k)}, ${v}`).join(', ')})`);
  return chunks.length === 1 ? chunks[0]! : `(${chunks.map((c) => `${c}::jsonb`).join(' || ')})::json`;
}

/** Table aliases t0, t1, ... unique within one query however deep the tree. */
export class Aliases {
  private n = 0;
  next(): string {
    return `t${this.n++}`;
  }
}
