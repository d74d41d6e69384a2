import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import { sourceTables, type IndexSpec } from '../../config/pipeline';
import { documentId, type KeyValue } from '../../core/change-event';
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
import { holdersLookup } from './holders-lookup';
import { joinSites, rootKeysQuery, type RootKeysQuery } from './root-keys-query';
import { WrittenRefs } from './written-refs';

export interface JoinedRebuilderDeps {
  db: SqlClient;
  es: Client;
  catalog: Catalog;
  /** The joined indexes (with relations). */
  indexes: readonly IndexSpec[];
  /** Root documents per query and per write. */
  batchKeys: number;
  /** Batches of one rebuild queried and written at once (default 1: one after the other). */
  batchesInFlight?: number;
  log: Logger;
  /** After each write of rebuilt documents. */
  onRebuilt?: (index: string, documents: number, deletes: number) => void;
  /** One change rebuilding more documents than one batch holds (a shared parent). */
  onFanOut?: (index: string, roots: number) => void;
  /** The index's queries were rebuilt without what the database no longer has. */
  onPruned?: (index: string, removed: readonly string[]) => void;
  /**
   * Whether every write to the joined index comes from this process (it holds every partition of
   * every topic the index reads): only then can the refs it wrote stand in for a refresh before
   * the `_refs` lookup. Default: always (one process).
   */
  exclusive?: (index: string) => boolean;
  /** Most (ref, document) pairs of unrefreshed writes kept in memory per index (written-refs.ts). Default: 200 000. */
  maxWrittenRefs?: number;
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
  const exclusive = deps.exclusive ?? (() => true);
  const plans = new Map<string, Plan>();
  const rootPrefix = new Map(deps.indexes.map((i) => [i.name, `${i.source.schema}.${i.source.table}:`]));
  // The root's own ref is never looked up (its events name their document): not worth keeping.
  const written = new WrittenRefs(deps.maxWrittenRefs ?? 200_000, (index) => rootPrefix.get(index));
  const holders = holdersLookup({ es, written, exclusive });
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
    const { index: pruned, removed } = pruneToCatalog(index, fresh, await incomparableJoins(db, index, fresh));
    if (removed.length) log.error(`index ${name}: the database no longer has (or can no longer join) what these parts of its joined documents read, so documents are built without them: ${removed.join('; ')}. Fix the pipeline config (a renamed column: set its new name as the field's "column")`, { index: name, removed });
    // Together, after the last await: the queries and the catalog they were built from never disagree.
    plans.set(name, plan(pruned, fresh));
    builtFrom.set(name, fresh);
    stamps.delete(name);
    deps.onPruned?.(name, removed);
  };

  /**
   * Following the catalog runs one caller at a time per index. Rebuilds of several partitions
   * call it at once; unordered, a caller that read the catalog before a second DDL could finish
   * re-planning after one that read it after, and its older queries would stay in place (with
   * the stamp of the newer catalog, so nothing would notice) for every rebuild to come.
   */
  const following = new Map<string, Promise<void>>();
  const oneAtATime = (name: string, task: () => Promise<void>): Promise<void> => {
    const run = (following.get(name) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => undefined);
    following.set(name, settled);
    void settled.then(() => following.get(name) === settled && following.delete(name));
    return run;
  };

  /**
   * The rebuild queries run per batch with the same text: prepared once per connection (named by
   * a hash of their text, so a query rebuilt after DDL gets a new name), Postgres keeps their
   * plans instead of planning each run (planning was most of a small batch's query time).
   */
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (!name) names.set(text, (name = `join_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`));
    return name;
  };
  const sql = async <R>(text: string, params: unknown[]): Promise<R[]> => {
    try {
      return (await db.query<R>({ name: nameOf(text), text, values: params })).rows;
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
        if (plans.has(index)) await oneAtATime(index, () => followCatalog(index));
        try {
          await rebuildIndex(index, reqs, write);
        } catch (err) {
          if (!(err instanceof PipelineError && err.context?.schemaChanged)) throw err;
          await oneAtATime(index, () => replan(index));
          await rebuildIndex(index, reqs, write); // versioned writes: doing it again is harmless
        }
      }
    },
    /**
     * For the refresh of the watermark task: the joined indexes with writes a refresh lets the
     * record forget, and `after` to call once the refresh of `indexes` completed.
     */
    beforeRefresh(dirty: Iterable<string>): { indexes: string[]; after: () => void } {
      const joinedDirty = [...new Set([...dirty].filter((i) => plans.has(i)).concat(written.pending()))];
      const tokens = joinedDirty.map((i) => written.refreshing(i));
      return { indexes: joinedDirty, after: () => tokens.forEach((t) => written.refreshed(t)) };
    },
    /** Partitions moved (a rebalance): another process may have written meanwhile, so the next lookup refreshes first. */
    reset(): void {
      written.reset();
    },
    written,
  };

  async function rebuildIndex(index: string, reqs: readonly RebuildRequest[], write: (ops: BulkOp[]) => Promise<void>): Promise<void> {
    const plan = plans.get(index);
    if (!plan) return;
    const roots = await affectedRoots(index, plan, reqs);
    if (roots.size > batchKeys) {
      deps.onFanOut?.(index, roots.size);
      log.info('a change rebuilds many joined documents; written in batches', { index, documents: roots.size, batch: batchKeys });
    }
    // Up to `batchesInFlight` batches at once: the next batch's query overlaps the last one's
    // bulk request. Batches hold distinct roots, so their writes may land in any order.
    const inFlight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const start = (batch: Root[]): void => {
      const p: Promise<void> = buildAndWrite(index, plan, batch, write)
        .catch((err: unknown) => void (failure ??= { err }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    let batch: Root[] = [];
    for (const root of roots.values()) {
      batch.push(root);
      if (batch.length < batchKeys) continue;
      start(batch);
      batch = [];
      while (inFlight.size >= (deps.batchesInFlight ?? 1) && !failure) await Promise.race(inFlight);
      if (failure) break;
    }
    if (batch.length && !failure) start(batch);
    while (inFlight.size) await Promise.race(inFlight);
    if (failure) throw failure.err;
  }

  /** One batch of roots: their documents in one query, written in one go (deletes for roots that are gone). */
  async function buildAndWrite(index: string, plan: Plan, batch: readonly Root[], write: (ops: BulkOp[]) => Promise<void>): Promise<void> {
    // Lookups wait for this read until its documents are recorded (affectedRoots).
    const release = written.reading(index);
    let ops: BulkOp[];
    let deletes = 0;
    let record: ReturnType<WrittenRefs['record']>;
    try {
      const rows = await sql<{ ord: number; doc: string | null; refs: string[] | null }>(plan.doc.text, plan.doc.params(batch.map((r) => r.key)));
      ops = rows.map((row): BulkOp => {
        const r = batch[row.ord - 1]!;
        const id = documentId(r.key);
        const base = { index, id, version: r.version, origin: r.origin, lsn: r.lsn };
        if (row.doc === null) {
          deletes++;
          return { action: 'delete', ...base, bytes: 200 };
        }
        const body = plan.doc.exactText ? { source: row.doc } : { doc: parseJsonExact(row.doc) as Record<string, unknown> };
        return { action: 'index', ...base, ...body, bytes: row.doc.length + 200 };
      });
      record = written.record(index, rows.map((row, i) => ({ action: ops[i]!.action, id: ops[i]!.id, doc: { [REFS_FIELD]: row.refs ?? [] } })));
    } finally {
      release();
    }
    try {
      await write(ops);
    } finally {
      written.acknowledged(index, record);
    }
    deps.onRebuilt?.(index, ops.length, deletes);
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
    const related = others.filter((r) => r.kind === 'related');
    // New state and old state are independent lookups: run together.
    await Promise.all([newState(plan, related, (key) => bump(key, top)), holders(index, others, (id, r) => bump(keyOfId(id), r ?? top))]);
    return roots;
  }

  /** The rows as they are now, joined up to their roots. */
  async function newState(plan: Plan, related: readonly RebuildRequest[], found: (key: Record<string, KeyValue>) => void): Promise<void> {
    const byTable = new Map<string, RebuildRequest[]>();
    for (const r of related) byTable.set(tableName(r.source), [...(byTable.get(tableName(r.source)) ?? []), r]);
    const queries: Array<Promise<void>> = [];
    for (const [table, rs] of byTable) {
      for (const q of plan.sites.get(table) ?? []) {
        for (let i = 0; i < rs.length; i += batchKeys) {
          const keys = rs.slice(i, i + batchKeys).map((r) => r.key);
          queries.push(sql<{ key: string }>(q.text, q.params(keys)).then((rows) => rows.forEach((row) => found(parseJsonExact(row.key) as Record<string, KeyValue>))));
        }
      }
    }
    await Promise.all(queries);
  }
}
export type JoinedRebuilder = ReturnType<typeof createJoinedRebuilder>;

