import type { IndexSpec, RelationSpec } from '../../config/pipeline';
import { tableName, type Catalog } from './catalog';

/**
 * The part of a joined index the database can still build, after DDL on one of its tables (a
 * column dropped or renamed, a table gone): fields and orderBy entries whose column is missing are
 * left out, and so is a relation whose table or join columns are missing, or whose join columns
 * have types Postgres cannot compare (`incomparable`: reasons by relation path, catalog-drift.ts).
 * `removed` names each left-out piece by its path, for the error line that says what to fix in the pipeline config. The documents then
 * lack those fields, as single-table documents do after such DDL (docs/schema-changes.md).
 */
export function pruneToCatalog(index: IndexSpec, catalog: Catalog, incomparable: ReadonlyMap<string, string> = new Map()): { index: IndexSpec; removed: string[] } {
  const removed: string[] = [];
  const has = (t: { schema: string; table: string }, column: string): boolean => catalog.get(tableName(t))?.columns.some((c) => c.name === column) ?? false;
  const fieldsOf = <F extends { column: string; name: string }>(t: { schema: string; table: string }, fields: readonly F[], prefix: string): F[] =>
    fields.filter((f) => has(t, f.column) || (removed.push(`${prefix}${f.name} (column ${tableName(t)}.${f.column})`), false));
  const relationsOf = (parent: { schema: string; table: string }, rels: readonly RelationSpec[], prefix: string): RelationSpec[] => {
    const out: RelationSpec[] = [];
    for (const r of rels) {
      const path = `${prefix}${r.name}`;
      const child = r.through?.source ?? r.source;
      const missing = [
        ...r.on.filter((p) => !has(parent, p.parent)).map((p) => `${tableName(parent)}.${p.parent}`),
        ...r.on.filter((p) => !has(child, p.child)).map((p) => `${tableName(child)}.${p.child}`),
        ...(r.through?.on ?? []).flatMap((p) => [...(has(child, p.parent) ? [] : [`${tableName(child)}.${p.parent}`]), ...(has(r.source, p.child) ? [] : [`${tableName(r.source)}.${p.child}`])]),
      ];
      const unjoinable = incomparable.get(path);
      if (unjoinable && catalog.has(tableName(r.source)) && !missing.length) {
        removed.push(`${path} (${unjoinable})`);
        continue;
      }
      if (!catalog.has(tableName(r.source)) || missing.length) {
        removed.push(`${path} (${catalog.has(tableName(r.source)) ? `join column ${missing.join(', ')}` : `table ${tableName(r.source)}`})`);
        continue;
      }
      // An orderBy column gone: the rows are in key order (the tie-break), as with no orderBy.
      const orderBy = r.orderBy.filter((o) => has(r.source, o.column) || (removed.push(`${path} order by ${o.column} (column ${tableName(r.source)}.${o.column})`), false));
      out.push({ ...r, orderBy, fields: fieldsOf(r.source, r.fields, `${path}.`), relations: relationsOf(r.source, r.relations, `${path}.`) });
    }
    return out;
  };
  const pruned: IndexSpec = { ...index, fields: fieldsOf(index.source, index.fields, ''), relations: relationsOf(index.source, index.relations ?? [], '') };
  return { index: pruned, removed };
}
