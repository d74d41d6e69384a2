import type { IndexSpec, RelationSpec } from '../../config/pipeline';
import { tableName, type Catalog, type SqlClient } from './catalog';

/**
 * What changed in the tables of a joined index since its queries were built, in words for the
 * error line: a column retyped, a key that is not the same columns, a column or table gone. A
 * retype makes no query fail (to_jsonb takes any type), yet the documents would keep the old
 * type's conversion (an int8 as a number, not its exact text) and `_refs` entries that the
 * table's events no longer name (`{"id":5}` where events now carry `{"id":"5"}`). Added columns
 * are not listed: no query reads them.
 */
export function catalogDrift(built: Catalog, now: Catalog, tables: readonly { schema: string; table: string }[]): string[] {
  const out: string[] = [];
  for (const t of tables) {
    const name = tableName(t);
    const was = built.get(name);
    const is = now.get(name);
    if (!was) continue;
    if (!is) {
      out.push(`table ${name} is gone`);
      continue;
    }
    for (const c of was.columns) {
      const n = is.columns.find((x) => x.name === c.name);
      if (!n) out.push(`column ${name}.${c.name} is gone (dropped or renamed)`);
      else if (n.typeOid !== c.typeOid) out.push(`column ${name}.${c.name} changed type from ${c.type} to ${n.type}`);
    }
    if (was.key.join(',') !== is.key.join(',')) out.push(`the key of ${name} is (${is.key.join(', ')}), was (${was.key.join(', ')})`);
  }
  return out;
}

/**
 * A short text that changes whenever a column of `tables` is added, dropped, renamed or retyped,
 * or their keys change (one catalog query, cheap enough to run before every batch of rebuilds).
 */
export async function readCatalogStamp(db: SqlClient, tables: readonly { schema: string; table: string }[]): Promise<string> {
  const { rows } = await db.query<{ stamp: string | null }>(
    `SELECT md5(string_agg(n.nspname || '.' || c.relname || ':' || c.relreplident::text || ':'
              || (SELECT string_agg(a.attname || ' ' || a.atttypid::text, ',' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
              || ':' || coalesce((SELECT string_agg(i.indkey::text || i.indisprimary::text || i.indisreplident::text, ';' ORDER BY i.indexrelid) FROM pg_index i
                                   WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)), ''),
              '|' ORDER BY n.nspname, c.relname)) AS stamp
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND c.relkind IN ('r', 'p')`,
    [tables.map((t) => t.schema), tables.map((t) => t.table)],
  );
  return rows[0]?.stamp ?? '';
}

/**
 * The relations (by path, `items.product`) whose join columns now have types Postgres cannot
 * compare (a join column retyped to `text` against an `integer`), each with the reason. Their
 * queries would fail on every rebuild, so they are left out like a relation whose join column is
 * gone. Only pairs whose types differ are asked about (one `SELECT NULL::a = NULL::b` each).
 */
export async function incomparableJoins(db: SqlClient, index: IndexSpec, catalog: Catalog): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const col = (t: { schema: string; table: string }, name: string) => catalog.get(tableName(t))?.columns.find((c) => c.name === name);
  const walk = async (parent: { schema: string; table: string }, rels: readonly RelationSpec[], prefix: string): Promise<void> => {
    for (const r of rels) {
      const path = `${prefix}${r.name}`;
      const child = r.through?.source ?? r.source;
      const pairs = [
        ...r.on.map((p) => [parent, p.parent, child, p.child] as const),
        ...(r.through?.on ?? []).map((p) => [child, p.parent, r.source, p.child] as const),
      ];
      for (const [ta, a, tb, b] of pairs) {
        const ca = col(ta, a);
        const cb = col(tb, b);
        if (!ca || !cb || ca.typeOid === cb.typeOid) continue;
        const comparable = await db.query(`SELECT NULL::${ca.type} = NULL::${cb.type}`).then(() => true, (err: { code?: string }) => {
          if (err.code === '42883') return false;
          throw err;
        });
        if (!comparable) {
          out.set(path, `join column ${tableName(ta)}.${a} (${ca.type}) cannot be compared with ${tableName(tb)}.${b} (${cb.type})`);
          break;
        }
      }
      await walk(r.source, r.relations, `${path}.`);
    }
  };
  await walk(index.source, index.relations ?? [], '');
  return out;
}
