import type { FieldSpec, IndexSpec, RelationSpec } from '../../config/pipeline';
import { exactFieldName } from '../../core/field-names';

/**
 * Every field the API can name in an index, as a dotted path into the document: root fields
 * (`number`), fields of related rows (`customer.country`, `items.product.category`), to any
 * depth. Each keeps its FieldSpec, so a relation's field is filterable, facetable, sortable or
 * searchable exactly as its config says, like a root field.
 *
 * `nested` lists the relations on the way that are mapped `nested` (arrays with `nested: true`,
 * the default), outermost first: such a field lives in separate hidden Lucene documents, so
 * queries, aggregations and sorts on it must go through `nested` (one level per entry). Object
 * relations (one row, or arrays with `nested: false`) are plain sub-objects of the root document
 * and need nothing.
 */
export interface FieldPath {
  path: string;
  spec: FieldSpec;
  nested: readonly string[];
}

const cache = new WeakMap<IndexSpec, readonly FieldPath[]>();

/** Root fields first, then each relation's, depth first in config order. Computed once per index. */
export function fieldPaths(index: IndexSpec): readonly FieldPath[] {
  let paths = cache.get(index);
  if (!paths) {
    paths = Object.freeze([...index.fields.map((spec) => ({ path: spec.name, spec, nested: [] })), ...walk(index.relations ?? [], '', [])]);
    cache.set(index, paths);
  }
  return paths;
}

function walk(relations: readonly RelationSpec[], prefix: string, nested: readonly string[]): FieldPath[] {
  return relations.flatMap((rel) => {
    const at = `${prefix}${rel.name}`;
    const inside = rel.nested ? [...nested, at] : nested;
    return [...rel.fields.map((spec) => ({ path: `${at}.${spec.name}`, spec, nested: inside })), ...walk(rel.relations, `${at}.`, inside)];
  });
}

export function findPath(index: IndexSpec, path: string): FieldPath | undefined {
  return fieldPaths(index).find((f) => f.path === path);
}

/** The paths whose spec passes `keep`, comma-separated for an error message, or `none`. */
export function listPaths(index: IndexSpec, keep: (f: FieldPath) => boolean): string {
  return fieldPaths(index).filter(keep).map((f) => f.path).join(', ') || 'none';
}

/** The Elasticsearch field for exact values (filters, facets, sorts, groups): `<path>.raw` for text. */
export function exactPath(f: FieldPath): string {
  return exactFieldName({ name: f.path, type: f.spec.type });
}

/** The innermost nested relation of a field (its `nested` query / aggregation path), if any. */
export function nestedPath(f: { nested: readonly string[] }): string | undefined {
  return f.nested[f.nested.length - 1];
}

/**
 * A field path as the API's parameters accept it: names of the config's shape (letter, then
 * letters, digits, `_`) joined by dots. Parsers use it to read a path before looking it up.
 */
export const PATH_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*/;
