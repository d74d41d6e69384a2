import { compileFields, parseTable, type FieldSpec, type RawField } from './pipeline-fields';
import type { RELATION_KINDS } from './pipeline-schema';

/**
 * Relations of an index: related tables joined into each document, to any depth
 * (docs/joined-documents.md). Compiled from the config into a typed tree the indexer's join
 * code walks down (to build a document) and up (to find the documents a changed row is in).
 */
export type RelationKind = (typeof RELATION_KINDS)[number];

/** One column pair of a join: `parent` on the side nearer the root, `child` on the far side. */
export interface JoinPair { parent: string; child: string }

export interface RelationSpec {
  /** The key holding the related row(s) in the parent's document. */
  name: string;
  kind: RelationKind;
  source: { schema: string; table: string };
  /**
   * Parent table column = this table's column, every pair (a composite key has several). For
   * many-to-many the child side is the through table, which `through.on` joins to this table.
   */
  on: readonly JoinPair[];
  /** many-to-many only: `on` pairs with parent = a through-table column, child = this table's. */
  through?: { source: { schema: string; table: string }; on: readonly JoinPair[] };
  /** one-to-many and many-to-many: an array of objects; otherwise one object or null. */
  many: boolean;
  /** Arrays: Elasticsearch `nested` (true, the default) or `object` mapping. Always false for objects. */
  nested: boolean;
  /** Arrays: order of the rows; the table's key is appended to break ties. Empty: by key. */
  orderBy: readonly { column: string; direction: 'asc' | 'desc' }[];
  /** Arrays: at most this many rows, the first by `orderBy`. Undefined: all of them. */
  limit?: number;
  fields: readonly FieldSpec[];
  relations: readonly RelationSpec[];
}

export interface RawRelation {
  table: string;
  kind: RelationKind;
  on: Record<string, string>;
  through?: { table: string; on: Record<string, string> };
  fields?: Record<string, RawField>;
  relations?: Record<string, RawRelation>;
  nested?: boolean;
  orderBy?: { column: string; direction?: 'asc' | 'desc' }[];
  limit?: number;
}

const pairs = (on: Record<string, string>): JoinPair[] => Object.entries(on).map(([parent, child]) => ({ parent, child }));

/**
 * `at` is the JSON path of the object holding "relations"; `siblings` the fields beside them,
 * whose names a relation must not take (both become keys of one document object).
 */
export function compileRelations(at: string, raw: Record<string, RawRelation>, siblings: readonly FieldSpec[], analyzer: string | undefined, problems: string[]): RelationSpec[] {
  return Object.entries(raw).map(([name, r]) => compileRelation(`${at}/relations/${name}`, name, r, siblings, analyzer, problems));
}

function compileRelation(at: string, name: string, r: RawRelation, siblings: readonly FieldSpec[], analyzer: string | undefined, problems: string[]): RelationSpec {
  const many = r.kind === 'one-to-many' || r.kind === 'many-to-many';
  if (siblings.some((f) => f.name === name)) problems.push(`${at}: "${name}" is also a field beside it; rename the relation or the field (both would be the key "${name}" of the document).`);
  // The schema already refuses `_` names (Elasticsearch's and the pipeline's `_refs`).
  if (name === 'id') problems.push(`${at}: "id" is reserved (the document id); rename the relation.`);
  if (r.kind === 'many-to-many' && !r.through) problems.push(`${at}: a many-to-many relation needs "through": { "table": "<join table>", "on": { "<join table column>": "<column of ${r.table}>" } }; add it.`);
  if (r.kind !== 'many-to-many' && r.through) problems.push(`${at}/through: only many-to-many relations go through a join table; remove it or use "kind": "many-to-many".`);
  if (!many) {
    for (const key of ['nested', 'orderBy', 'limit'] as const) {
      if (r[key] !== undefined) problems.push(`${at}/${key}: a ${r.kind} relation is one object, not an array; remove "${key}" or use "kind": "one-to-many".`);
    }
  }
  if (!r.fields && !r.relations) problems.push(`${at}: a relation needs "fields" or "relations"; add the fields its rows should contribute.`);
  const fields = compileFields(at, r.fields ?? {}, analyzer, problems, false);
  const spec: RelationSpec = {
    name,
    kind: r.kind,
    source: parseTable(r.table),
    on: pairs(r.on),
    many,
    nested: many && (r.nested ?? true),
    orderBy: (r.orderBy ?? []).map((o) => ({ column: o.column, direction: o.direction ?? 'asc' })),
    fields,
    relations: r.relations ? compileRelations(at, r.relations, fields, analyzer, problems) : [],
  };
  if (r.through) spec.through = { source: parseTable(r.through.table), on: pairs(r.through.on) };
  if (r.limit !== undefined) spec.limit = r.limit;
  return spec;
}
