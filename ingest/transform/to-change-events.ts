import { canonicalKey, documentId, type ChangeEvent, type KeyValue } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { convertPgText } from './pg-values';

/** What a decoded pgoutput change carries, independent of the decoding library. */
export interface RelationInfo {
  schema: string;
  name: string;
  /** Columns pgoutput flags as the replica identity; with REPLICA IDENTITY FULL that is every column. */
  keyColumns: string[];
  replicaIdentity?: 'default' | 'nothing' | 'full' | 'index';
  columns: Array<{ name: string; typeOid: number }>;
}
export type RawTuple = Record<string, string | null | undefined>;

export type DecodedChange =
  | { tag: 'insert'; relation: RelationInfo; new: RawTuple }
  | { tag: 'update'; relation: RelationInfo; key: RawTuple | null; old: RawTuple | null; new: RawTuple }
  | { tag: 'delete'; relation: RelationInfo; key: RawTuple | null; old: RawTuple | null }
  | { tag: 'truncate'; relations: RelationInfo[] };

export interface TxContext {
  xid: number;
  /** Commit LSN of the transaction (pgoutput's Begin carries it), decimal. */
  commitLsn: string;
  ts: string;
}

export class NoPrimaryKeyError extends PipelineError {
  constructor(table: string) {
    super(`table ${table} has no primary key (nor a replica identity index), so its rows cannot be mapped to documents. Add a primary key, or remove the table from the pipeline config.`, { code: 'NO_PRIMARY_KEY', retriable: false, context: { table } });
  }
}

/**
 * The document key of a relation: pgoutput's identity columns, except under REPLICA IDENTITY FULL,
 * where pgoutput flags every column and the key is the table's primary key (`fullKeys`, read from
 * the catalog at start), so an update does not turn into a delete and an insert under a new key.
 */
export function withDocumentKey(change: DecodedChange, fullKeys: (qualifiedTable: string) => readonly string[] | undefined): DecodedChange {
  if (change.tag === 'truncate' || change.relation.replicaIdentity !== 'full') return change;
  const r = change.relation;
  let keyed = primaryKeyed.get(r);
  if (!keyed) primaryKeyed.set(r, (keyed = { ...r, keyColumns: [...(fullKeys(`${r.schema}.${r.name}`) ?? [])] }));
  return { ...change, relation: keyed };
}
/** The primary-keyed copy of each FULL relation, made once per Relation message like the relation itself. */
const primaryKeyed = new WeakMap<RelationInfo, RelationInfo>();

export function toChangeEvents(change: DecodedChange, lsn: string, tx: TxContext): ChangeEvent[] {
  switch (change.tag) {
    case 'insert':
      return [rowEvent('c', change.relation, change.new, lsn, tx)];
    case 'update': {
      const update = rowEvent('u', change.relation, change.new, lsn, tx);
      // pgoutput sends the old key only when a key column changed: the old document must go.
      const oldTuple = change.key ?? change.old;
      if (oldTuple) {
        const oldKey = keyOf(change.relation, oldTuple);
        if (JSON.stringify(oldKey) !== JSON.stringify(update.key)) return [deleteEvent(change.relation, oldKey, lsn, tx), update];
      }
      return [update];
    }
    case 'delete': {
      const tuple = change.key ?? change.old;
      if (!tuple) throw new NoPrimaryKeyError(`${change.relation.schema}.${change.relation.name}`);
      return [deleteEvent(change.relation, keyOf(change.relation, tuple), lsn, tx)];
    }
    case 'truncate':
      return change.relations.map((r) => ({ v: 1, op: 't', source: src(r), key: {}, lsn, commitLsn: tx.commitLsn, txId: tx.xid, ts: tx.ts }));
  }
}

/*
 * Events are built as whole literals in one property order (no spreads): every row event then
 * shares one hidden class, which keeps the contract validator and JSON.stringify on their fast
 * paths (spread-built events cost ~10x more to validate; bench/ingest-cpu.bench.ts).
 */
function rowEvent(op: 'c' | 'u' | 'r', r: RelationInfo, tuple: RawTuple, lsn: string, tx: TxContext): ChangeEvent {
  const key = keyOf(r, tuple);
  const { after, unchanged } = row(r, tuple);
  if (unchanged) return { v: 1, op, source: src(r), key, after, unchanged, lsn, commitLsn: tx.commitLsn, txId: tx.xid, ts: tx.ts };
  return { v: 1, op, source: src(r), key, after, lsn, commitLsn: tx.commitLsn, txId: tx.xid, ts: tx.ts };
}

function deleteEvent(r: RelationInfo, key: Record<string, KeyValue>, lsn: string, tx: TxContext): ChangeEvent {
  return { v: 1, op: 'd', source: src(r), key, lsn, commitLsn: tx.commitLsn, txId: tx.xid, ts: tx.ts };
}

/** One source object per relation, shared by its events (read-only downstream): less garbage per row. */
const sources = new WeakMap<RelationInfo, { schema: string; table: string }>();
function src(r: RelationInfo): { schema: string; table: string } {
  let source = sources.get(r);
  if (!source) sources.set(r, (source = { schema: r.schema, table: r.name }));
  return source;
}

function keyOf(r: RelationInfo, tuple: RawTuple): Record<string, KeyValue> {
  if (r.keyColumns.length === 0) throw new NoPrimaryKeyError(`${r.schema}.${r.name}`);
  const key: Record<string, KeyValue> = {};
  for (const name of r.keyColumns) {
    const col = r.columns.find((c) => c.name === name);
    const text = tuple[name];
    if (col === undefined || text === null || text === undefined) {
      throw new PipelineError(`key column ${name} of ${r.schema}.${r.name} is missing from the change`, { code: 'KEY_MISSING', retriable: false });
    }
    key[name] = convertPgText(text, col.typeOid) as KeyValue;
  }
  return key;
}

/** The row as JSON values; columns pgoutput left out (unchanged TOAST) are listed, not nulled. */
function row(r: RelationInfo, tuple: RawTuple): { after: Record<string, unknown>; unchanged?: string[] } {
  const after: Record<string, unknown> = {};
  let unchanged: string[] | undefined;
  for (const col of r.columns) {
    const text = tuple[col.name];
    if (text === undefined) (unchanged ??= []).push(col.name);
    else {
      const value = text === null ? null : convertPgText(text, col.typeOid);
      // A column named __proto__ is data, not the object's prototype.
      if (col.name === '__proto__') Object.defineProperty(after, col.name, { value, enumerable: true, writable: true, configurable: true });
      else after[col.name] = value;
    }
  }
  return { after, unchanged };
}

/**
 * A row read by the snapshot: op 'r', versioned with the commit LSN of the chunk's high
 * watermark, so any transaction committing later (a higher commit LSN) wins over it.
 */
export function toSnapshotEvent(relation: RelationInfo, tuple: RawTuple, lsn: string, tx: TxContext): ChangeEvent {
  const key = keyOf(relation, tuple);
  return { v: 1, op: 'r', source: src(relation), key, after: row(relation, tuple).after, lsn, commitLsn: tx.commitLsn, txId: tx.xid, ts: tx.ts };
}

/**
 * A key the snapshot looked for and found no row of (a re-snapshot of given keys): a delete,
 * versioned like toSnapshotEvent, so a row written after the read wins over it.
 */
export function toSnapshotDelete(relation: RelationInfo, keyTuple: RawTuple, lsn: string, tx: TxContext): ChangeEvent {
  return deleteEvent(relation, keyOf(relation, keyTuple), lsn, tx);
}

/** The canonical key (core/change-event.ts) of a tuple holding at least the key columns' texts. */
export function tupleKey(relation: RelationInfo, tuple: RawTuple): string {
  return canonicalKey(keyOf(relation, tuple));
}

/** The Elasticsearch _id (core/change-event.ts) of a tuple holding at least the key columns' texts. */
export function tupleDocumentId(relation: RelationInfo, tuple: RawTuple): string {
  return documentId(keyOf(relation, tuple));
}
