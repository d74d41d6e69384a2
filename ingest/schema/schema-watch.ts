import type { ClientBase } from 'pg';
import type { PipelineConfig } from '../../config/pipeline';
import type { Logger } from '../../core/logger';
import type { IngestMetrics } from '../metrics';
import { copyTableAgain, readColumns, saveColumns } from '../snapshot/snapshot-state';
import { describeTable } from '../snapshot/table-reader';
import type { RelationInfo } from '../transform/to-change-events';
import { columnTypes, configuredColumns, diffSchema, sameColumns, withKeyColumns, type ColumnTypes, type ConfiguredColumn, type SchemaChange } from './schema-diff';

/** A reason the index is not what the pipeline config asks for, for /healthz. */
export interface SchemaProblem { problem: 'column_missing' | 'copying_after_schema_change'; table: string; column?: string; index?: string; field?: string }

export interface SchemaWatchDeps {
  db: Pick<ClientBase, 'query'>;
  slot: string;
  pipeline: PipelineConfig;
  metrics: IngestMetrics;
  log: Logger;
  /** The table was set to be copied again: start the snapshot runner; resolves once it is idle. */
  copyAgain: () => Promise<void>;
}

/**
 * DDL is not replicated: pgoutput describes a table anew (a Relation message) before its next change
 * after an ALTER. Each new description is compared with the last one the index was built from (kept
 * in the snapshot state table, so a restart compares with the same). When a column that feeds a
 * document field is dropped, renamed, comes back or changes type, documents written before and
 * after would disagree (some with the field, some without; a string in some and a number in
 * others), so the table is copied again through the watermark snapshot: every document is
 * rebuilt from the row as it is now, on the same ordered path as the stream. Loudly: an error line
 * naming index, field and column, ingest_schema_changes_total, ingest_missing_columns, /healthz.
 */
export function createSchemaWatch(deps: SchemaWatchDeps) {
  const { db, slot, metrics, log } = deps;
  const used = configuredColumns(deps.pipeline);
  let stored = new Map<string, ColumnTypes>();
  const described = new WeakSet<RelationInfo>();
  const missing = new Map<string, ConfiguredColumn[]>();
  const copying = new Set<string>();

  function setMissing(table: string, now: ConfiguredColumn[]): void {
    for (const m of missing.get(table) ?? []) metrics.missingColumns.set({ table, column: m.column, index: m.index, field: m.field }, 0);
    for (const m of now) metrics.missingColumns.set({ table, column: m.column, index: m.index, field: m.field }, 1);
    missing.set(table, now);
  }

  async function typeName(oid: number): Promise<string> {
    const r = await db.query<{ t: string }>('SELECT $1::int::regtype::text AS t', [oid]).catch(() => undefined);
    return r?.rows[0]?.t ?? `oid ${oid}`;
  }

  async function report(c: SchemaChange): Promise<void> {
    const { table, column, index, field } = c.used;
    metrics.schemaChanges.inc({ table, kind: c.kind });
    if (c.kind === 'column_missing') {
      log.error(`column ${column} of ${table}, which feeds field ${field} of index ${index}, is gone (dropped or renamed): every document of the table is rebuilt without the field. If it was renamed, set "column" of that field in the pipeline config to the new name and restart ingest`, { table, column, index, field });
    } else if (c.kind === 'column_back') {
      log.warn(`column ${column} of ${table}, which feeds field ${field} of index ${index}, is back: every document of the table is rebuilt with it`, { table, column, index, field });
    } else {
      const from = await typeName(c.fromOid);
      const to = await typeName(c.toOid);
      log.error(`column ${column} of ${table}, which feeds field ${field} of index ${index}, changed type from ${from} to ${to}: every document of the table is rebuilt so that all hold the new type. Check that the field's type in the pipeline config still fits`, { table, column, index, field, from, to });
    }
  }

  return {
    /** Reads the descriptions kept from earlier runs; a table never described is checked against the catalog. */
    async load(): Promise<void> {
      stored = await readColumns(db, slot);
      for (const [table, list] of used) {
        const known = stored.get(table);
        const [schema, name] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
        const now = known ?? columnTypes(await describeTable(db, schema, name));
        const d = diffSchema(undefined, now, list);
        for (const m of d.missing) log.error(`column ${m.column} of ${table}, which feeds field ${m.field} of index ${m.index}, does not exist: documents are indexed without the field. Set "column" of that field in the pipeline config to an existing column of ${table} (it has ${Object.keys(now).join(', ')})`, { ...m });
        setMissing(table, d.missing);
      }
    },

    /** Called with each change's relation, in stream order; a description seen before costs one lookup. */
    async observe(relation: RelationInfo): Promise<void> {
      if (described.has(relation)) return;
      described.add(relation);
      const table = `${relation.schema}.${relation.name}`;
      const now = columnTypes(relation);
      const before = stored.get(table);
      if (sameColumns(before, now)) return;
      const d = diffSchema(before, now, withKeyColumns(used.get(table) ?? [], relation));
      // Saved before the change that follows is published, so a crash cannot skip the copy.
      await saveColumns(db, slot, table, now, d.resnapshot);
      // A related table's change is in the documents of its root table: those are copied again too.
      for (const root of new Set(d.changes.map((c) => c.used.root).filter((r) => r !== table))) await copyTableAgain(db, slot, root);
      stored.set(table, now);
      for (const c of d.changes) await report(c);
      setMissing(table, d.missing);
      if (!d.resnapshot) return;
      copying.add(table);
      void deps.copyAgain().then(() => copying.delete(table));
    },

    problems(): SchemaProblem[] {
      const out: SchemaProblem[] = [];
      for (const [table, list] of missing) for (const m of list) out.push({ problem: 'column_missing', table, column: m.column, index: m.index, field: m.field });
      for (const table of copying) out.push({ problem: 'copying_after_schema_change', table });
      return out;
    },
  };
}
export type SchemaWatch = ReturnType<typeof createSchemaWatch>;
