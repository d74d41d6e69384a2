import pLimit from 'p-limit';
import type { IndexSpec } from '../config/pipeline';
import { decodeChangeEvent, documentId, type ChangeEvent } from '../core/change-event';
import { errorMessage } from '../core/errors';
import type { DeadLetterRecord } from './dead-letters';
import type { DeadLetter, DocumentSink } from './sink/es-document-sink';
import { chunkOps } from './transform/chunk-ops';
import { coalesce, toBulkOps, type BulkOp, type Origin } from './transform/to-bulk-ops';
import { carryForward, fillFromCurrent, type CurrentReader } from './transform/unchanged-fields';
import type { Position } from './watermark/positions';

export interface InboundMessage { offset: string; value: Buffer | null }

export interface BatchDeps {
  indexes: readonly IndexSpec[];
  sink: DocumentSink;
  deadLetters: (records: DeadLetterRecord[]) => Promise<void>;
  /** Deletes every document of `index` at or below the truncate's commit LSN (truncate.ts). */
  truncate: (index: string, event: ChangeEvent, origin: Origin) => Promise<DeadLetter[]>;
  maxDocsPerBulk: number;
  /** Largest bulk body, bytes (estimated); no limit when absent. */
  maxBytesPerBulk?: number;
  /** Shared across partitions: bounds bulk requests in flight for the whole process. */
  limit: ReturnType<typeof pLimit>;
  keepAlive: () => Promise<void>;
  /** Current source of documents, for fields an update did not carry (unchanged TOAST). */
  readCurrent: CurrentReader;
  /** Documents indexed without some fields: there was nothing to take them from. */
  onUnresolved?: (ops: BulkOp[]) => void;
}

export interface BatchResult {
  ops: number;
  deadLetters: number;
  /** Highest commit LSN in the batch (heartbeats, truncates and dead letters included). */
  position?: Position;
  /** Indexes that got writes or deletes. */
  written: Set<string>;
}

/**
 * One partition's batch: decode, map to bulk ops, keep the last op per document, write in
 * chunks, and park what cannot be written. A truncate splits the batch: changes of the table
 * before it are dropped (the truncate removes them), what comes after is written after it, so it
 * survives (it may share the truncate's version when in the same transaction). Resolves only when every
 * message is durable in Elasticsearch or in the dead-letter topic, so the caller may then commit.
 */
export async function processBatch(topic: string, partition: number, messages: readonly InboundMessage[], deps: BatchDeps): Promise<BatchResult> {
  let ops: BulkOp[] = [];
  const dead: DeadLetterRecord[] = [];
  const result: BatchResult = { ops: 0, deadLetters: 0, written: new Set() };
  const flush = async (): Promise<void> => {
    // Unchanged TOAST fields: from earlier changes of the batch first, then from Elasticsearch,
    // where every earlier change is durable (the previous batch and flush have been written).
    const unique = await fillFromCurrent(coalesce(carryForward(ops)), deps.readCurrent);
    ops = [];
    const unresolved = unique.filter((o) => o.unresolved);
    if (unresolved.length) deps.onUnresolved?.(unresolved);
    const chunks = chunkOps(unique, deps.maxDocsPerBulk, deps.maxBytesPerBulk);
    const results = await Promise.all(chunks.map((chunk) => deps.limit(() => deps.sink.write(chunk, deps.keepAlive))));
    for (const op of unique) result.written.add(op.index);
    for (const d of results.flat()) dead.push(deadLetterOf(d));
    result.ops += unique.length;
  };
  for (const m of messages) {
    const origin = { topic, partition, offset: m.offset };
    const payload = m.value?.toString() ?? '';
    let event: ChangeEvent;
    try {
      event = decodeChangeEvent(payload);
      if (event.op !== 't') for (const op of toBulkOps(event, origin, deps.indexes)) ops.push({ ...op, bytes: (m.value?.length ?? 0) + ACTION_LINE_BYTES });
    } catch (err) {
      dead.push({ ...origin, errorType: 'invalid_event', reason: errorMessage(err), payload, id: safeId(payload) });
      continue;
    }
    if (event.op === 't') {
      // What precedes the truncate in this partition is truncated anyway; written now it could
      // carry the truncate's own version (same transaction), which the truncate's deletes spare.
      ops = ops.filter((o) => !deps.indexes.some((i) => i.name === o.index && i.source.schema === event.source.schema && i.source.table === event.source.table));
      await flush();
      for (const spec of deps.indexes.filter((i) => i.source.schema === event.source.schema && i.source.table === event.source.table)) {
        for (const d of await deps.truncate(spec.name, event, origin)) dead.push(deadLetterOf(d));
        result.written.add(spec.name);
      }
    }
    const lsn = BigInt(event.commitLsn);
    if (!result.position || lsn >= result.position.lsn) result.position = { lsn, commitTs: event.ts };
  }
  await flush();
  await deps.deadLetters(dead);
  result.deadLetters = dead.length;
  return result;
}

/** Upper bound of a bulk action line with index name, id and a 19-digit version. */
const ACTION_LINE_BYTES = 200;

function deadLetterOf(d: DeadLetter): DeadLetterRecord {
  return { index: d.op.index, id: d.op.id, lsn: d.op.lsn, commitLsn: d.op.version, ...d.op.origin, errorType: d.errorType, reason: d.reason, payload: JSON.stringify(d.op.doc ?? null) };
}

function safeId(payload: string): string | undefined {
  try {
    const key = (JSON.parse(payload) as { key?: Record<string, string> }).key;
    return key && typeof key === 'object' ? documentId(key) : undefined;
  } catch {
    return undefined;
  }
}
