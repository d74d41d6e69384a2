import type { IndexSpec } from '../../config/pipeline';
import { buildDocument } from '../../config/pipeline-document';
import { documentId, type ChangeEvent } from '../../core/change-event';
import { missingFields } from './unchanged-fields';

/** Where an event came from, carried to the dead-letter topic. */
export interface Origin { topic: string; partition: number; offset: string }

export interface BulkOp {
  action: 'index' | 'delete';
  index: string;
  id: string;
  /** Decimal commit LSN: the external version, printed exactly into the NDJSON. */
  version: string;
  doc?: Record<string, unknown>;
  /**
   * The document as JSON text, written into the bulk body as it is instead of `doc` (a joined
   * document as Postgres printed it, when that text is exact: join/document-query.ts exactText).
   * Spares parsing and printing it again; ops that need fields filled (`missing`) carry `doc`.
   */
  source?: string;
  origin: Origin;
  lsn: string;
  /**
   * external_gte (default) lets changes of one transaction (equal versions) apply in order;
   * a truncate's deletes use external, so rows its own transaction wrote after it survive.
   */
  versionType?: 'external' | 'external_gte';
  /**
   * Estimated NDJSON bytes, for cutting bulk requests by size: the Kafka message it came from
   * plus the action line (the document holds a subset of the row, so this errs on the big side
   * without serialising the document twice).
   */
  bytes?: number;
  /**
   * Document fields whose source column was not sent (unchanged TOAST values): absent from
   * `doc`, and must be filled from the current document before it is written (unchanged-fields.ts).
   */
  missing?: string[];
  /** Missing fields there was nothing to fill from: the document is written without them. */
  unresolved?: string[];
}

/** `bytes`: the op's estimated NDJSON size (BulkOp.bytes), when bulk requests are cut by size. */
export function toBulkOps(event: ChangeEvent, origin: Origin, indexes: readonly IndexSpec[], bytes?: number): BulkOp[] {
  if (event.op === 't' || event.op === 'h') return [];
  const targets = targetsOf(indexes, event.source);
  if (!targets.length) return [];
  const id = documentId(event.key);
  return targets.map((spec): BulkOp => {
    if (event.op === 'd' || !event.after) return { action: 'delete', index: spec.name, id, version: event.commitLsn, origin, lsn: event.lsn, bytes };
    const op: BulkOp = { action: 'index', index: spec.name, id, version: event.commitLsn, doc: buildDocument(spec.fields, event.after), origin, lsn: event.lsn, bytes };
    const missing = missingFields(spec.fields, event.after, event.unchanged);
    if (missing.length) op.missing = [...missing];
    return op;
  });
}

/** The indexes fed by each table, per pipeline config (configs are frozen): spares a scan per event. */
const targetsCache = new WeakMap<readonly IndexSpec[], Map<string, IndexSpec[]>>();
export function targetsOf(indexes: readonly IndexSpec[], source: { schema: string; table: string }): readonly IndexSpec[] {
  let byTable = targetsCache.get(indexes);
  if (!byTable) targetsCache.set(indexes, (byTable = new Map()));
  const key = `${source.schema}.${source.table}`;
  let targets = byTable.get(key);
  if (!targets) byTable.set(key, (targets = indexes.filter((i) => i.source.schema === source.schema && i.source.table === source.table)));
  return targets;
}

/**
 * Keeps only the last op per document. Several changes of one row can share a version
 * (one transaction); if they were all sent and one failed and was retried, the retry would
 * win over a later change of equal version. One op per id per batch rules that out.
 */
export function coalesce(ops: readonly BulkOp[]): BulkOp[] {
  // Most runs feed one index and change each row once: then the id alone is the key, and the
  // run stays as it is (a set of ids is cheaper than moving every op through a map).
  const index = ops[0]?.index;
  const keyOf = ops.every((op) => op.index === index) ? (op: BulkOp) => op.id : (op: BulkOp) => `${op.index}\u0000${op.id}`;
  const seen = new Set<string>();
  for (const op of ops) {
    const k = keyOf(op);
    if (seen.has(k)) return lastOfEach(ops, keyOf);
    seen.add(k);
  }
  return ops.slice();
}

function lastOfEach(ops: readonly BulkOp[], keyOf: (op: BulkOp) => string): BulkOp[] {
  const last = new Map<string, BulkOp>();
  for (const op of ops) {
    const k = keyOf(op);
    last.delete(k); // re-insert so the map keeps the order of last occurrence
    last.set(k, op);
  }
  return [...last.values()];
}

/** NDJSON by hand: the client would print a BigInt-sized version inexactly or refuse it. */
export function toNdjson(ops: readonly BulkOp[]): string {
  return bulkBody(ops).toString();
}

/**
 * The bulk request body, printed into one buffer as it goes. Building a string and encoding it
 * afterwards (Buffer.from) first flattened the concatenated string, a copy per document: a sixth
 * of the NDJSON build's CPU (bench/indexer-consume-probe.bench.ts).
 */
export function bulkBody(ops: readonly BulkOp[]): Buffer {
  let estimate = 0;
  for (const op of ops) estimate += op.bytes ?? 256;
  const out = new BodyWriter(estimate);
  for (const op of ops) {
    if (!VERSION.test(op.version)) throw new RangeError(`version is not a decimal LSN: ${op.version}`);
    out.write(`${actionPrefix(op)}${JSON.stringify(op.id)},"version":${op.version},"version_type":"${op.versionType ?? 'external_gte'}"}}\n`);
    if (op.action === 'index') out.write(`${op.source ?? JSON.stringify(op.doc)}\n`);
  }
  return out.done();
}

const VERSION = /^\d{1,19}$/;

/** `{"<action>":{"_index":<index>,"_id":` per action and index: spares printing the index name per document. */
const prefixes = new Map<string, string>();
function actionPrefix(op: BulkOp): string {
  const k = `${op.action}\u0000${op.index}`;
  let p = prefixes.get(k);
  if (p === undefined) {
    p = `{"${op.action}":{"_index":${JSON.stringify(op.index)},"_id":`;
    // Index names are few; a process writing to ever new ones (tests) does not grow this for ever.
    if (prefixes.size > 1_000) prefixes.clear();
    prefixes.set(k, p);
  }
  return p;
}

/** UTF-8 into a buffer that grows by doubling. */
class BodyWriter {
  private buf: Buffer;
  private at = 0;

  constructor(estimate: number) {
    this.buf = Buffer.allocUnsafe(Math.max(estimate, 1024));
  }

  write(s: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    if (this.at + s.length * 3 > this.buf.length) {
      const need = this.at + Buffer.byteLength(s);
      if (need > this.buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, need));
        this.buf.copy(bigger, 0, 0, this.at);
        this.buf = bigger;
      }
    }
    this.at += this.buf.write(s, this.at);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}
