import type { FieldSpec } from '../../config/pipeline';
import type { BulkOp } from './to-bulk-ops';

/**
 * Unchanged TOAST values. With the default replica identity Postgres does not send a large
 * out-of-line value that an update left alone: the column is absent from `after` and listed in
 * `unchanged`. Indexing the document as built would drop the field, so the op carries the names
 * of the fields it lacks (`missing`) and they are filled, in this order, from
 *   1. the last earlier op of the same document in the batch (`carryForward`), then
 *   2. the document as it is in Elasticsearch (`fillFromCurrent`): every earlier change of it is
 *      durable by then, since a partition's batches are written one after the other.
 * Elasticsearch's update API cannot take an external version, hence read, merge, index whole.
 */

const NONE: readonly string[] = Object.freeze([]);

/** Names of the document fields fed by columns the change did not send. */
export function missingFields(fields: readonly FieldSpec[], after: Record<string, unknown>, unchanged: readonly string[] | undefined): readonly string[] {
  if (!unchanged?.length) return NONE;
  const notSent = new Set(unchanged);
  return fields.filter((f) => notSent.has(f.column) && !Object.prototype.hasOwnProperty.call(after, f.column)).map((f) => f.name);
}

/**
 * Fills missing fields from the previous op of the same document in `ops` (stream order), so the
 * op that survives `coalesce` holds them. Must run before `coalesce`. When the batch alone tells
 * the whole document (it holds a create, a full update or a delete of it), a field it does not
 * have is nowhere: it becomes `unresolved`. Otherwise it stays missing, for Elasticsearch.
 */
export function carryForward(ops: readonly BulkOp[]): readonly BulkOp[] {
  if (!ops.some((op) => op.missing)) return ops;
  const latest = new Map<string, { doc: Record<string, unknown>; whole: boolean }>();
  return ops.map((op) => {
    const key = `${op.index}\u0000${op.id}`;
    const before = latest.get(key);
    let filled = op;
    if (op.action === 'delete') latest.set(key, { doc: {}, whole: true });
    else {
      if (op.missing && before) {
        const absent = op.missing.filter((f) => !hasOwn(before.doc, f));
        filled = before.whole ? withFields(op, before.doc, [], absent) : withFields(op, before.doc, absent, []);
      }
      latest.set(key, { doc: filled.doc ?? {}, whole: !filled.missing });
    }
    return filled;
  });
}

/** What `fillFromCurrent` asks Elasticsearch for: the current source of these fields of one document. */
export interface CurrentRequest { index: string; id: string; fields: readonly string[] }
/** The requested fields of each document, in request order; undefined where it does not exist. */
export type CurrentReader = (wanted: readonly CurrentRequest[]) => Promise<Array<Record<string, unknown> | undefined>>;

/**
 * Fills what is still missing from the current documents (one read for all of them), to be
 * indexed whole with the op's own version. A newer document in Elasticsearch makes the write a
 * version conflict, which is success; a document that does not exist, or lacks the field, leaves
 * it out (never a placeholder or null) and marks the op `unresolved`.
 */
export async function fillFromCurrent(ops: readonly BulkOp[], read: CurrentReader): Promise<readonly BulkOp[]> {
  const at: number[] = [];
  ops.forEach((op, i) => op.missing && op.action === 'index' && at.push(i));
  if (!at.length) return ops;
  const current = await read(at.map((i) => ({ index: ops[i]!.index, id: ops[i]!.id, fields: ops[i]!.missing! })));
  const out = [...ops];
  at.forEach((i, n) => {
    const op = ops[i]!;
    const source = current[n] ?? {};
    out[i] = withFields(op, source, [], op.missing!.filter((f) => !hasOwn(source, f)));
  });
  return out;
}

/** The op with the missing fields `from` has copied in; `stillMissing` left to find, `unresolved` given up on. */
function withFields(op: BulkOp, from: Record<string, unknown>, stillMissing: string[], unresolved: string[]): BulkOp {
  const doc = { ...op.doc };
  let bytes = op.bytes ?? 0;
  for (const f of op.missing ?? []) {
    if (!hasOwn(from, f)) continue;
    doc[f] = from[f];
    // Keeps bulk requests cut by size: the Kafka message this op was sized from lacked the value.
    bytes += f.length + 4 + (typeof from[f] === 'string' ? (from[f] as string).length + 2 : JSON.stringify(from[f] ?? null).length);
  }
  const { missing: _missing, unresolved: _unresolved, ...rest } = op;
  const gaveUp = [...(op.unresolved ?? []), ...unresolved];
  return { ...rest, doc, ...(op.bytes === undefined ? {} : { bytes }), ...(stillMissing.length ? { missing: stillMissing } : {}), ...(gaveUp.length ? { unresolved: gaveUp } : {}) };
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
