import type { Client } from '@elastic/elasticsearch';
import { sourceTables, type IndexSpec } from '../../config/pipeline';
import { canonicalKey, documentId, type KeyValue } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { parseJsonExact } from '../../core/exact-json';
import { decimalLsnBelow } from '../../core/lsn';
import type { Logger } from '../../core/logger';
import type { BulkOp, Origin } from '../transform/to-bulk-ops';
import { readCatalog, tableInfo, tableName, type Catalog, type SqlClient } from './catalog';
import { catalogDrift, incomparableJoins, readCatalogStamp } from './catalog-drift';
import { pruneToCatalog } from './prune-to-catalog';
import { documentQuery, REFS_FIELD, type DocumentQuery } from './document-query';
import type { RebuildRequest } from './rebuild-requests';
import { idsMatching } from './refs-lookup';
import { joinSites, rootKeysQuery, type RootKeysQuery } from './root-keys-query';

export interface JoinedRebuilderDeps {
  db: SqlClient;
  es: Client;
  catalog: Catalog;
  /** The joined indexes (with relations). */
  indexes: readonly IndexSpec[];
  /** Root documents per query and per write. */
  batchKeys: number;
  log: Logger;
  /** After each write of rebuilt documents. */
  onRebuilt?: (index: string, documents: number, deletes: number) => void;
  /** One change rebuilding more documents than one batch holds (a shared parent). */
  onFanOut?: (index: string, roots: number) => void;
  /** The index's queries were rebuilt without what the database no longer has. */
  onPruned?: (index: string, removed: readonly string[]) => void;
}

interface Root { key: Record<string, KeyValue>; version: string; lsn: string; origin: Origin }
interface Plan { doc: DocumentQuery; rootKey: readonly string[]; sites: Map<string, RootKeysQuery[]> }

/**
 * Turns rebuild requests into documents (docs/joined-documents.md): finds the roots a change
 * touches, by SQL for the rows' new state and by `_refs` for the documents that held them, then
 * builds those documents in batches with one query each and hands them to `write` batch by batch
 * (bounded memory however many documents a shared parent is in).
 *
 * Versions: a root is written with the highest commit LSN among the requests that found it, and
 * roots found through related rows with the highest of those in the batch. Every read happens
 * after those commits were streamed, so a document written with version v always shows a
 * database state at or after v: the highest version, which Elasticsearch keeps, shows the last.
 */
export function createJoinedRebuilder(deps: JoinedRebuilderDeps) {
  const { db, es, catalog, batchKeys, log } = deps;
  const plans = new Map<string, Plan>();
  const plan = (index: IndexSpec, cat: Catalog): Plan => {
    const sites = new Map<string, RootKeysQuery[]>();
    for (const site of joinSites(index)) {
      const t = tableName(site.source);
      sites.set(t, [...(sites.get(t) ?? []), rootKeysQuery(index, cat, site)]);
    }
    return { doc: documentQuery(index, cat), rootKey: tableInfo(cat, index.source).key, sites };
  };
  for (const index of deps.indexes) plans.set(index.name, plan(index, catalog));
  /** The catalog each index's queries were built from, to tell when DDL changed one of its tables. */
  const builtFrom = new Map(deps.indexes.map((i) => [i.name, catalog]));
  /** The catalog stamp of each index's tables when last compared; none yet: compare in full. */
  const stamps = new Map<string, string>();

  /**
   * After DDL on a table of the index (the query named a column or table that is gone), the
   * catalog is read again and the queries are built from what is left (prune-to-catalog.ts),
   * loudly. Ingest sees the same DDL and copies the root table again, so every document is
   * rebuilt the same way and the index is not a mix.
   */
  const replan = async (name: string, read?: Catalog): Promise<void> => {
    const index = deps.indexes.find((i) => i.name === name)!;
    const fresh = read ?? (await readCatalog(db, sourceTables(index)));
    builtFrom.set(name, fresh);
    stamps.delete(name);
    const { index: pruned, removed } = pruneToCatalog(index, fresh, await incomparableJoins(db, index, fresh));
    if (removed.length) log.error(`index ${name}: the database no longer has (or can no longer join) what these parts of its joined documents read, so documents are built without them: ${removed.join('; ')}. Fix the pipeline config (a renamed column: set its new name as the field's "column")`, { index: name, removed });
    plans.set(name, plan(pruned, fresh));
    deps.onPruned?.(name, removed);
  };

  const sql = async <R>(text: string, params: unknown[]): Promise<R[]> => {
    try {
      return (await db.query<R>(text, params)).rows;
    } catch (err) {
      // A lost connection or a restarting database is waited out like an Elasticsearch outage.
      const code = (err as { code?: string }).code ?? '';
      // undefined_column, undefined_table, a key column retyped: DDL since the queries were built.
      const schemaChanged = ['42703', '42P01', '42804', '22P02', '42883'].includes(code);
      const retriable = schemaChanged || !/^(42|22|23)/.test(code);
      throw new PipelineError(`reading joined documents from Postgres failed: ${(err as Error).message}`, { code: 'JOIN_QUERY_FAILED', retriable, cause: err, context: { schemaChanged } });
    }
  };

  /**
   * A column retyped (or a key changed) fails no query, yet documents built after it would keep
   * the old type's conversion and `_refs` its events no longer name (catalog-drift.ts). So every
   * batch compares the catalog stamp of the index's tables first (one query) and, when it moved,
   * reads the catalog and builds the queries anew, loudly. Why that is enough: a rebuild at version
   * v runs after the commit v was streamed, so it sees every DDL committed before v; a document
   * built with the old queries has a version below the DDL, and ingest, which copies the root table
   * again after DDL on any of its tables (docs/schema-changes.md), rebuilds it at a higher one.
   */
  const followCatalog = async (name: string): Promise<void> => {
    const index = deps.indexes.find((i) => i.name === name)!;
    const tables = sourceTables(index);
    const stamp = await readCatalogStamp(db, tables);
    if (stamps.get(name) === stamp) return;
    const fresh = await readCatalog(db, tables);
    const drift = catalogDrift(builtFrom.get(name) ?? catalog, fresh, tables);
    if (drift.length) {
      log.error(`index ${name}: tables of its joined documents changed (${drift.join('; ')}): documents are built from the tables as they are now, and ingest copies the root table again with the next change of the changed table (until then documents built before keep the old form; a write to that table, or a reindex, rebuilds them now). Check that the field types in the pipeline config still fit`, { index: name, changes: drift });
      await replan(name, fresh);
    }
    stamps.set(name, stamp);
  };

  return {
    async rebuild(requests: readonly RebuildRequest[], write: (ops: BulkOp[]) => Promise<void>): Promise<void> {
      const byIndex = new Map<string, RebuildRequest[]>();
      for (const r of requests) byIndex.set(r.index, [...(byIndex.get(r.index) ?? []), r]);
      for (const [index, reqs] of byIndex) {
        if (plans.has(index)) await followCatalog(index);
        try {
          await rebuildIndex(index, reqs, write);
        } catch (err) {
          if (!(err instanceof PipelineError && err.context?.schemaChanged)) throw err;
          await replan(index);
          await rebuildIndex(index, reqs, write); // versioned writes: doing it again is harmless
        }
      }
    },
  };

  async function rebuildIndex(index: string, reqs: readonly RebuildRequest[], write: (ops: BulkOp[]) => Promise<void>): Promise<void> {
    const plan = plans.get(index);
    if (!plan) return;
    const roots = await affectedRoots(index, plan, reqs);
    if (roots.size > batchKeys) {
      deps.onFanOut?.(index, roots.size);
      log.info('a change rebuilds many joined documents; written in batches', { index, documents: roots.size, batch: batchKeys });
    }
    let batch: Root[] = [];
    const flush = async (): Promise<void> => {
      if (!batch.length) return;
      const rows = await sql<{ ord: number; doc: string | null }>(plan.doc.text, plan.doc.params(batch.map((r) => r.key)));
      const ops = rows.map((row): BulkOp => {
        const r = batch[row.ord - 1]!;
        const id = documentId(r.key);
        if (row.doc === null) return { action: 'delete', index, id, version: r.version, origin: r.origin, lsn: r.lsn, bytes: 200 };
        return { action: 'index', index, id, version: r.version, doc: parseJsonExact(row.doc) as Record<string, unknown>, origin: r.origin, lsn: r.lsn, bytes: row.doc.length + 200 };
      });
      batch = [];
      await write(ops);
      deps.onRebuilt?.(index, ops.length, ops.filter((o) => o.action === 'delete').length);
    };
    for (const root of roots.values()) {
      batch.push(root);
      if (batch.length >= batchKeys) await flush();
    }
    await flush();
  }

  async function affectedRoots(index: string, plan: Plan, reqs: readonly RebuildRequest[]): Promise<Map<string, Root>> {
    const roots = new Map<string, Root>();
    const bump = (key: Record<string, KeyValue>, r: { version: string; lsn: string; origin: Origin }): void => {
      const id = documentId(key);
      const cur = roots.get(id);
      if (!cur || decimalLsnBelow(cur.version, r.version)) roots.set(id, { key, version: r.version, lsn: r.lsn, origin: r.origin });
    };
    const keyOfId = (id: string): Record<string, KeyValue> => (plan.rootKey.length === 1 ? { [plan.rootKey[0]!]: id } : (JSON.parse(id) as Record<string, KeyValue>));
    for (const r of reqs) if (r.kind === 'root') bump(r.key, r);
    const others = reqs.filter((r) => r.kind !== 'root');
    if (!others.length) return roots;
    const top = others.reduce((a, b) => (decimalLsnBelow(a.version, b.version) ? b : a));
    // New state: the rows as they are now, joined up to their roots.
    const related = others.filter((r) => r.kind === 'related');
    const byTable = new Map<string, RebuildRequest[]>();
    for (const r of related) byTable.set(tableName(r.source), [...(byTable.get(tableName(r.source)) ?? []), r]);
    for (const [table, rs] of byTable) {
      for (const q of plan.sites.get(table) ?? []) {
        for (let i = 0; i < rs.length; i += batchKeys) {
          const rows = await sql<{ key: string }>(q.text, q.params(rs.slice(i, i + batchKeys).map((r) => r.key)));
          for (const row of rows) bump(parseJsonExact(row.key) as Record<string, KeyValue>, top);
        }
      }
    }
    // Old state: the documents that still hold those rows (a row moved away or deleted); they must
    // see every write made so far, so the index is refreshed first. A row just inserted is in no
    // document yet (a key deleted before is looked up by its delete), so inserts skip this.
    const changed = related.filter((r) => r.op !== 'c');
    const truncates = others.filter((r) => r.kind === 'truncate');
    if (!changed.length && !truncates.length) return roots;
    await es.indices.refresh({ index, ignore_unavailable: true });
    const refs = [...new Set(changed.map((r) => `${r.source.schema}.${r.source.table}:${canonicalKey(r.key)}`))];
    for (let i = 0; i < refs.length; i += 1000) {
      for await (const ids of idsMatching(es, index, { terms: { [REFS_FIELD]: refs.slice(i, i + 1000) } })) for (const id of ids) bump(keyOfId(id), top);
    }
    for (const t of truncates) {
      for await (const ids of idsMatching(es, index, { prefix: { [REFS_FIELD]: `${t.source.schema}.${t.source.table}:` } })) for (const id of ids) bump(keyOfId(id), t);
    }
    return roots;
  }
}
export type JoinedRebuilder = ReturnType<typeof createJoinedRebuilder>;

