import type { IndexSpec, RelationSpec } from '../../config/pipeline';
import { PipelineError } from '../../core/errors';
import { readCatalog, tableName, type Catalog, type SqlClient, type TableInfo } from './catalog';
import { joinSites } from './root-keys-query';

/**
 * Start-time check of the indexes with relations: every table and column the join queries
 * name must exist, and every table must have the key its change events and `_refs` use. A
 * typo would otherwise surface as an SQL error on the first change of that table, hours later;
 * refusing at start says what to change while the config is fresh in mind.
 */
export interface Problem { at: string; message: string }

/** Every table an index's joined documents read, the root first. */
export function tablesOf(index: IndexSpec): { schema: string; table: string }[] {
  const seen = new Map([[tableName(index.source), index.source]]);
  for (const s of joinSites(index)) seen.set(tableName(s.source), s.source);
  return [...seen.values()];
}

/** The problems of one index against the catalog (pure, for unit tests); `existing`: table names by schema. */
export function relationProblems(index: IndexSpec, catalog: Catalog, existing: ReadonlyMap<string, readonly string[]>): Problem[] {
  const problems: Problem[] = [];
  const at = `/indexes/${index.name}`;
  const table = (where: string, t: { schema: string; table: string }): TableInfo | undefined => {
    const info = catalog.get(tableName(t));
    if (!info) {
      const others = existing.get(t.schema) ?? [];
      problems.push({ at: where, message: `table ${tableName(t)} does not exist (${others.length ? `tables in schema ${t.schema}: ${others.join(', ')}` : `schema ${t.schema} has no tables`}). Fix the table name in the pipeline config, or create the table.` });
    } else if (!info.key.length) {
      problems.push({ at: where, message: `table ${tableName(t)} has no primary key: joined documents name each row they hold by its key. Add one, e.g. ALTER TABLE ${tableName(t)} ADD PRIMARY KEY (<its unique NOT NULL columns>);` });
    }
    return info;
  };
  const columns = (where: string, info: TableInfo | undefined, names: readonly string[], what: string) => {
    if (!info) return;
    for (const name of names) {
      if (info.columns.some((c) => c.name === name)) continue;
      problems.push({ at: where, message: `${tableName(info)} has no column "${name}" (${what}); its columns are ${info.columns.map((c) => c.name).join(', ')}. Fix the name in the pipeline config.` });
    }
  };
  const walk = (parent: TableInfo | undefined, rels: readonly RelationSpec[], above: string) => {
    for (const rel of rels) {
      const here = `${above}/relations/${rel.name}`;
      const info = table(`${here}/table`, rel.source);
      columns(`${here}/fields`, info, rel.fields.map((f) => f.column), 'a field\'s column');
      columns(`${here}/orderBy`, info, rel.orderBy.map((o) => o.column), 'in orderBy');
      columns(`${here}/on`, parent, rel.on.map((p) => p.parent), `a key of "on", the parent's side`);
      if (rel.through) {
        const through = table(`${here}/through/table`, rel.through.source);
        columns(`${here}/on`, through, rel.on.map((p) => p.child), `a value of "on", the join table's side`);
        columns(`${here}/through/on`, through, rel.through.on.map((p) => p.parent), `a key of "through.on", the join table's side`);
        columns(`${here}/through/on`, info, rel.through.on.map((p) => p.child), `a value of "through.on", this table's side`);
      } else {
        columns(`${here}/on`, info, rel.on.map((p) => p.child), `a value of "on", this table's side`);
      }
      walk(info, rel.relations, here);
    }
  };
  const root = table(`${at}/table`, index.source);
  columns(`${at}/fields`, root, index.fields.map((f) => f.column), 'a field\'s column');
  walk(root, index.relations ?? [], at);
  return problems;
}

/**
 * Reads the catalog of every index with relations and refuses to start on any problem. Returns
 * the catalog, which the join queries are built from.
 */
export async function checkRelations(db: SqlClient, indexes: readonly IndexSpec[]): Promise<Catalog> {
  const joined = indexes.filter((i) => i.relations?.length);
  const tables = joined.flatMap(tablesOf);
  const catalog = await readCatalog(db, tables);
  const schemas = [...new Set(tables.map((t) => t.schema))];
  const { rows } = await db.query<{ schema: string; tables: string[] }>(
    `SELECT n.nspname AS schema, array_agg(c.relname::text ORDER BY c.relname) AS tables
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') GROUP BY n.nspname`,
    [schemas],
  );
  const existing = new Map(rows.map((r) => [r.schema, r.tables]));
  const problems = joined.flatMap((i) => relationProblems(i, catalog, existing));
  if (problems.length) {
    throw new PipelineError(`the pipeline config's relations do not match the database:\n  - ${problems.map((p) => `${p.at}: ${p.message}`).join('\n  - ')}`, {
      code: 'RELATIONS_INVALID', retriable: false, context: { problems },
    });
  }
  return catalog;
}
