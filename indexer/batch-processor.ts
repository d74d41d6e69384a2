import pLimit from 'p-limit';
import type { IndexSpec } from '../config/pipeline';
import { decodeChangeEvent, documentId } from '../core/change-event';
import { errorMessage } from '../core/errors';
import type { DeadLetterRecord } from './dead-letters';
import type { DocumentSink } from './sink/es-document-sink';
import { coalesce, toBulkOps, type BulkOp } from './transform/to-bulk-ops';

export interface InboundMessage { offset: string; value: Buffer | null }

export interface BatchDeps {
  indexes: readonly IndexSpec[];
  sink: DocumentSink;
  deadLetters: (records: DeadLetterRecord[]) => Promise<void>;
  maxDocsPerBulk: number;
  /** Shared across partitions: bounds bulk requests in flight for the whole process. */
  limit: ReturnType<typeof pLimit>;
  keepAlive: () => Promise<void>;
}

/**
 * One partition's batch: decode, map to bulk ops, keep the last op per document, write in
 * chunks, and park what cannot be written. Resolves only when every message is durable in
 * Elasticsearch or in the dead-letter topic, so the caller may then commit the offset.
 */
export async function processBatch(topic: string, partition: number, messages: readonly InboundMessage[], deps: BatchDeps): Promise<{ ops: number; deadLetters: number }> {
  const ops: BulkOp[] = [];
  const dead: DeadLetterRecord[] = [];
  for (const m of messages) {
    const origin = { topic, partition, offset: m.offset };
    const payload = m.value?.toString() ?? '';
    try {
      const event = decodeChangeEvent(payload);
      if (event.op === 't') {
        dead.push({ ...origin, lsn: event.lsn, commitLsn: event.commitLsn, errorType: 'truncate_unsupported', reason: `TRUNCATE of ${event.source.schema}.${event.source.table} is not applied to the index yet; re-snapshot the table`, payload });
        continue;
      }
      ops.push(...toBulkOps(event, origin, deps.indexes));
    } catch (err) {
      dead.push({ ...origin, errorType: 'invalid_event', reason: errorMessage(err), payload, id: safeId(payload) });
    }
  }
  const unique = coalesce(ops);
  const chunks: BulkOp[][] = [];
  for (let i = 0; i < unique.length; i += deps.maxDocsPerBulk) chunks.push(unique.slice(i, i + deps.maxDocsPerBulk));
  const results = await Promise.all(chunks.map((chunk) => deps.limit(() => deps.sink.write(chunk, deps.keepAlive))));
  for (const d of results.flat()) {
    dead.push({ index: d.op.index, id: d.op.id, lsn: d.op.lsn, commitLsn: d.op.version, ...d.op.origin, errorType: d.errorType, reason: d.reason, payload: JSON.stringify(d.op.doc ?? null) });
  }
  await deps.deadLetters(dead);
  return { ops: unique.length, deadLetters: dead.length };
}

function safeId(payload: string): string | undefined {
  try {
    const key = (JSON.parse(payload) as { key?: Record<string, string> }).key;
    return key && typeof key === 'object' ? documentId(key) : undefined;
  } catch {
    return undefined;
  }
}
