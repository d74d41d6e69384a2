import type { IndexSpec, RelationSpec } from '../../config/pipeline';
import type { KeyValue } from '../../core/change-event';
import { column, tableInfo, type Catalog, type TableInfo } from './catalog';
import { Aliases, canonicalKeySql, ident, qualified } from './sql';

/**
 * Where a related table sits in an index's relation tree: the relations from the root down to
 * it, and whether it is the through (join) table of the last one rather than its table. A table
 * may sit at several places (a billing and a shipping address); the root table is not a site,
 * its events name their document directly.
 */
export interface JoinSite { path: readonly RelationSpec[]; through: boolean; source: { schema: string; table: string } }

export function joinSites(index: IndexSpec): JoinSite[] {
  const out: JoinSite[] = [];
  const walk = (rels: readonly RelationSpec[], above: readonly RelationSpec[]) => {
    for (const rel of rels) {
      const path = [...above, rel];
      if (rel.through) out.push({ path, through: true, source: rel.through.source });
      out.push({ path, through: false, source: rel.source });
      walk(rel.relations, path);
    }
  };
  walk(index.relations ?? [], []);
  return out;
}

export function sitesOf(index: IndexSpec, source: { schema: string; table: string }): JoinSite[] {
  return joinSites(index).filter((s) => s.source.schema === source.schema && s.source.table === source.table);
}

/**
 * The root keys whose documents hold, now, the rows of a site given by their keys: the new
 * state of a changed row, walking its join columns up to the root. Returns `key`, the root's
 * canonical key text (JSON of an event key), once per root. Rows that are gone or moved away
 * find nothing here; the old documents that still hold them are found by their `_refs`.
 * A row beyond a relation's `limit` maps to its root too: one rebuild too many, never one short.
 */
export interface RootKeysQuery { text: string; params(keys: readonly Record<string, KeyValue>[]): string[][] }

export function rootKeysQuery(index: IndexSpec, catalog: Catalog, site: JoinSite): RootKeysQuery {
  const aliases = new Aliases();
  const start = tableInfo(catalog, site.source);
  const keyCols = start.key.map((k) => column(start, k));
  const inputs = keyCols.map((_, i) => `k${i}`);
  let cur = aliases.next();
  const joins = [`  JOIN ${qualified(start)} ${cur} ON ${keyCols.map((c, i) => `${cur}.${ident(c.name)} = k.${inputs[i]}::${c.type}`).join(' AND ')}`];
  let rootInfo: TableInfo = tableInfo(catalog, index.source);
  for (let i = site.path.length - 1; i >= 0; i--) {
    const rel = site.path[i]!;
    const parentSource = i === 0 ? index.source : site.path[i - 1]!.source;
    // The step from this relation's table to its through table, unless the walk starts there.
    if (rel.through && !(site.through && i === site.path.length - 1)) {
      const j = aliases.next();
      joins.push(`  JOIN ${qualified(rel.through.source)} ${j} ON ${rel.through.on.map((p) => `${j}.${ident(p.parent)} = ${cur}.${ident(p.child)}`).join(' AND ')}`);
      cur = j;
    }
    const p = aliases.next();
    joins.push(`  JOIN ${qualified(parentSource)} ${p} ON ${rel.on.map((pair) => `${p}.${ident(pair.parent)} = ${cur}.${ident(pair.child)}`).join(' AND ')}`);
    cur = p;
    if (i === 0) rootInfo = tableInfo(catalog, parentSource);
  }
  const rootKey = rootInfo.key.map((k) => column(rootInfo, k));
  const text = [
    `SELECT DISTINCT ${canonicalKeySql(cur, rootKey)} AS key`,
    `  FROM unnest(${inputs.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS k(${inputs.join(', ')})`,
    ...joins,
  ].join('\n');
  return { text, params: (keys) => start.key.map((k) => keys.map((key) => String(key[k]))) };
}
