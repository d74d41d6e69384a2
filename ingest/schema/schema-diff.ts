import type { PipelineConfig, RelationSpec } from '../../config/pipeline';
import type { RelationInfo } from '../transform/to-change-events';

/**
 * A column that feeds a document: which index and field (a path such as customer.name for a
 * related table's field, or the relation's name for a join column), and the root table whose
 * documents it is in (the table itself for a single-table index).
 */
export interface ConfiguredColumn { table: string; column: string; index: string; field: string; root: string }

/** Column name → type OID, as the stream last described the table. */
export type ColumnTypes = Readonly<Record<string, number>>;

export type SchemaChange =
  /** Dropped or renamed: pgoutput sends names only, so the two cannot be told apart. */
  | { kind: 'column_missing'; used: ConfiguredColumn }
  | { kind: 'column_back'; used: ConfiguredColumn }
  | { kind: 'column_retyped'; used: ConfiguredColumn; fromOid: number; toOid: number };

export interface SchemaDiff {
  changes: SchemaChange[];
  /** Configured columns the table does not have now. */
  missing: ConfiguredColumn[];
  /** Documents already written disagree with the new schema: copy the table again. */
  resnapshot: boolean;
}

/** The columns of each table that documents are built from, by "schema.table". */
export function configuredColumns(pipeline: PipelineConfig): Map<string, ConfiguredColumn[]> {
  const out = new Map<string, ConfiguredColumn[]>();
  const add = (c: ConfiguredColumn): void => void out.set(c.table, [...(out.get(c.table) ?? []), c]);
  const name = (t: { schema: string; table: string }): string => `${t.schema}.${t.table}`;
  for (const idx of pipeline.indexes) {
    const root = name(idx.source);
    for (const f of idx.fields) add({ table: root, column: f.column, index: idx.name, field: f.name, root });
    // A joined document reads its related tables' fields and join columns too.
    const walk = (rels: readonly RelationSpec[], parent: string, prefix: string): void => {
      for (const r of rels) {
        const table = name(r.source);
        const path = `${prefix}${r.name}`;
        for (const f of r.fields) add({ table, column: f.column, index: idx.name, field: `${path}.${f.name}`, root });
        // The order of an array's rows (and so which rows a capped array holds).
        for (const o of r.orderBy) add({ table, column: o.column, index: idx.name, field: path, root });
        const childSide = r.through ? name(r.through.source) : table;
        for (const p of r.on) {
          add({ table: parent, column: p.parent, index: idx.name, field: path, root });
          add({ table: childSide, column: p.child, index: idx.name, field: path, root });
        }
        for (const p of r.through?.on ?? []) {
          add({ table: childSide, column: p.parent, index: idx.name, field: path, root });
          add({ table, column: p.child, index: idx.name, field: path, root });
        }
        walk(r.relations, table, `${path}.`);
      }
    };
    walk(idx.relations ?? [], root, '');
  }
  return out;
}

/**
 * The columns of a related (or through) table that feed documents: the configured ones and its
 * key columns, which name its rows in every document's `_refs` (a key retyped from int4 to int8
 * turns `{"id":5}` into `{"id":"5"}` in its events: documents built before would no longer be
 * found by them). The key comes from the stream's description, so it is added here, not from the
 * config. A root table's key is not added: a single-table document's id does not change with it.
 */
export function withKeyColumns(used: readonly ConfiguredColumn[], relation: RelationInfo): ConfiguredColumn[] {
  const table = `${relation.schema}.${relation.name}`;
  if (relation.replicaIdentity === 'full') return [...used]; // every column is flagged: the key is not known from the stream
  const out = [...used];
  const roots = new Map(used.filter((u) => u.root !== table).map((u) => [`${u.index}\u0000${u.root}`, u]));
  for (const u of roots.values()) {
    for (const column of relation.keyColumns) {
      if (!used.some((x) => x.index === u.index && x.column === column)) out.push({ table, column, index: u.index, field: '_refs', root: u.root });
    }
  }
  return out;
}

export function columnTypes(relation: RelationInfo): ColumnTypes {
  return Object.fromEntries(relation.columns.map((c) => [c.name, c.typeOid]));
}

/**
 * What a new description of a table means for its documents. Only configured columns count: a
 * column no field reads changes no document. `before` undefined: the first description seen,
 * which documents were built from (nothing to compare with).
 */
export function diffSchema(before: ColumnTypes | undefined, after: ColumnTypes, used: readonly ConfiguredColumn[]): SchemaDiff {
  const has = (t: ColumnTypes, c: string): boolean => Object.prototype.hasOwnProperty.call(t, c);
  const missing = used.filter((u) => !has(after, u.column));
  if (!before) return { changes: [], missing, resnapshot: false };
  const changes: SchemaChange[] = [];
  for (const u of used) {
    const was = has(before, u.column);
    const is = has(after, u.column);
    if (was && !is) changes.push({ kind: 'column_missing', used: u });
    else if (!was && is) changes.push({ kind: 'column_back', used: u });
    else if (was && is && before[u.column] !== after[u.column]) changes.push({ kind: 'column_retyped', used: u, fromOid: before[u.column]!, toOid: after[u.column]! });
  }
  return { changes, missing, resnapshot: changes.length > 0 };
}

/** True when two descriptions differ in any column (worth storing, even if no document cares). */
export function sameColumns(a: ColumnTypes | undefined, b: ColumnTypes): boolean {
  if (!a) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}
