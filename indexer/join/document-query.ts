import type { FieldSpec, IndexSpec, RelationSpec } from '../../config/pipeline';
import type { KeyValue } from '../../core/change-event';
import { MAX_JSON_DEPTH } from '../../core/exact-json';
import { column, tableInfo, type Catalog, type TableInfo } from './catalog';
import { Aliases, buildJsonObjectSql, fieldSql, ident, isJsonColumn, qualified, refTextSql } from './sql';

/**
 * The one SQL query that builds the joined documents of a batch of root keys
 * (docs/joined-documents.md). Every relation is a correlated LATERAL subquery producing its
 * part of the document and the `_refs` of the rows it read, so the whole tree is one statement
 * read at one snapshot: a document never mixes two database states.
 *
 * It returns one row per key given, in order: `ord` (1-based position in the batch) and `doc`
 * (the document's JSON text, `_refs` included), or `doc` null when the root row does not exist
 * (its document is deleted). JSON text, not parsed by pg: a document can go into the bulk body as
 * it is (`exactText`), or be parsed exactly when a json/jsonb value may hold a number beyond 2^53.
 *
 * The document is built with `json` functions (text kept as built, keys in config order) and the
 * refs as `text[]`: about half the database time of building `jsonb` and converting it to text.
 */
export interface DocumentQuery {
  text: string;
  /** The query's parameters for a batch of root keys (event keys: `{ column: value }`). */
  params(keys: readonly Record<string, KeyValue>[]): string[][];
  /**
   * True when the documents' JSON text can be sent to Elasticsearch as it is: no field reads a
   * json/jsonb column (every other value prints exactly: int8 and numeric are strings, floats
   * print their shortest exact form) and the tree is shallower than MAX_JSON_DEPTH. Otherwise the
   * caller parses it with parseJsonExact.
   */
  exactText: boolean;
}

export const REFS_FIELD = '_refs';

export function documentQuery(index: IndexSpec, catalog: Catalog): DocumentQuery {
  const root = tableInfo(catalog, index.source);
  const aliases = new Aliases();
  const t0 = aliases.next();
  const node = nodeSql(t0, root, index.fields, index.relations ?? [], catalog, aliases);
  const keyCols = root.key.map((k) => column(root, k));
  const inputs = keyCols.map((_, i) => `k${i}`);
  const refs = `(SELECT array_agg(DISTINCT r ORDER BY r) FROM unnest(${node.refs}) r)`;
  const text = [
    `SELECT k.ord::int AS ord,`,
    `       CASE WHEN ${t0}.${ident(keyCols[0]!.name)} IS NULL THEN NULL`,
    `            ELSE (${buildJsonObjectSql([...node.pairs, [REFS_FIELD, refs]])})::text END AS doc,`,
    // The refs again, apart: a document sent as Postgres printed it is never parsed, and the
    // indexer records what each written document holds (written-refs.ts).
    `       CASE WHEN ${t0}.${ident(keyCols[0]!.name)} IS NULL THEN NULL ELSE ${refs} END AS refs`,
    `  FROM unnest(${inputs.map((_, i) => `$${i + 1}::text[]`).join(', ')}) WITH ORDINALITY AS k(${inputs.join(', ')}, ord)`,
    `  LEFT JOIN ${qualified(root)} ${t0} ON ${keyCols.map((c, i) => `${t0}.${ident(c.name)} = k.${inputs[i]}::${c.type}`).join(' AND ')}`,
    ...node.laterals,
    ` ORDER BY k.ord`,
  ].join('\n');
  const exactText = !readsJson(root, index.fields, index.relations ?? [], catalog) && treeDepth(index.relations ?? []) + 2 <= MAX_JSON_DEPTH;
  return { text, params: (keys) => root.key.map((k) => keys.map((key) => String(key[k]))), exactText };
}

interface NodeSql { pairs: [string, string][]; refs: string; laterals: string[] }

/** One row of `info` under `alias`: its fields, its relations (as laterals) and its refs (a text[]). */
function nodeSql(alias: string, info: TableInfo, fields: readonly FieldSpec[], relations: readonly RelationSpec[], catalog: Catalog, aliases: Aliases, extraRefs: string[] = []): NodeSql {
  const pairs: [string, string][] = fields.map((f) => [f.name, fieldSql(`${alias}.${ident(f.column)}`, column(info, f.column), f)]);
  // Its own entries (and the through row's) first, then the flat refs of each relation.
  const refs = [`ARRAY[${[refTextSql(alias, info, keyOf(info)), ...extraRefs].join(', ')}]`];
  const laterals: string[] = [];
  for (const rel of relations) {
    const l = aliases.next().replace('t', 'l');
    laterals.push(`  LEFT JOIN LATERAL (\n${indent(relationSql(alias, rel, catalog, aliases))}\n  ) ${l} ON true`);
    pairs.push([rel.name, `${l}.doc`]);
    refs.push(`coalesce(${l}.refs, '{}'::text[])`);
  }
  return { pairs, refs: `(${refs.join(' || ')})`, laterals };
}

function relationSql(parent: string, rel: RelationSpec, catalog: Catalog, aliases: Aliases): string {
  const info = tableInfo(catalog, rel.source);
  const t = aliases.next();
  let from = `${qualified(info)} ${t}`;
  let where: string;
  const extraRefs: string[] = [];
  let tieBreak = keyOf(info).map((c) => `${t}.${ident(c.name)}`);
  if (rel.through) {
    const through = tableInfo(catalog, rel.through.source);
    const j = aliases.next();
    from = `${qualified(through)} ${j}\n  JOIN ${from} ON ${rel.through.on.map((p) => `${t}.${ident(p.child)} = ${j}.${ident(p.parent)}`).join(' AND ')}`;
    where = rel.on.map((p) => `${j}.${ident(p.child)} = ${parent}.${ident(p.parent)}`).join(' AND ');
    extraRefs.push(refTextSql(j, through, keyOf(through)));
    tieBreak = [...tieBreak, ...keyOf(through).map((c) => `${j}.${ident(c.name)}`)];
  } else {
    where = rel.on.map((p) => `${t}.${ident(p.child)} = ${parent}.${ident(p.parent)}`).join(' AND ');
  }
  const node = nodeSql(t, info, rel.fields, rel.relations, catalog, aliases, extraRefs);
  const doc = buildJsonObjectSql(node.pairs);
  const rows = (select: string, order: string[], limit: number | undefined) => [
    `SELECT ${select}`,
    `  FROM ${from}`,
    ...node.laterals,
    ` WHERE ${where}`,
    ` ORDER BY ${order.join(', ')}`,
    ...(limit === undefined ? [] : [` LIMIT ${limit}`]),
  ].join('\n');
  // An object relation takes one row; a join that is not unique takes the first by key.
  if (!rel.many) return rows(`${doc} AS doc, ${node.refs} AS refs`, tieBreak, 1);
  const sorts = [...rel.orderBy.map((o) => ({ expr: `${t}.${ident(o.column)}`, dir: o.direction === 'desc' ? ' DESC' : '' })), ...tieBreak.map((expr) => ({ expr, dir: '' }))];
  const select = `${doc} AS doc, ${node.refs} AS refs, ${sorts.map((o, i) => `${o.expr} AS o${i}`).join(', ')}`;
  const aggOrder = sorts.map((o, i) => `o${i}${o.dir}`).join(', ');
  // The capped rows once in a CTE, read twice: as the array and as the flat list of their refs.
  return [
    `WITH x AS (`,
    indent(rows(select, sorts.map((o) => `${o.expr}${o.dir}`), rel.limit)),
    `)`,
    `SELECT (SELECT coalesce(json_agg(doc ORDER BY ${aggOrder}), '[]'::json) FROM x) AS doc,`,
    `       (SELECT array_agg(e) FROM x, unnest(x.refs) e) AS refs`,
  ].join('\n');
}

function keyOf(info: TableInfo) {
  return info.key.map((k) => column(info, k));
}

/** Whether any field of the tree reads a json/jsonb column (its values may hold numbers beyond 2^53). */
function readsJson(info: TableInfo, fields: readonly FieldSpec[], relations: readonly RelationSpec[], catalog: Catalog): boolean {
  if (fields.some((f) => isJsonColumn(column(info, f.column)))) return true;
  return relations.some((r) => readsJson(tableInfo(catalog, r.source), r.fields, r.relations, catalog));
}

/** JSON nesting below the root object: an object relation adds one level, an array two. */
function treeDepth(relations: readonly RelationSpec[]): number {
  return Math.max(0, ...relations.map((r) => (r.many ? 2 : 1) + treeDepth(r.relations)));
}

const indent = (s: string): string => s.split('\n').map((l) => `    ${l}`).join('\n');
