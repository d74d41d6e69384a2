import pLimit from 'p-limit';
import type { IndexSpec } from '../config/pipeline';
import { decodeChangeEvent, documentId, type ChangeEvent } from '../core/change-event';
import { errorMessage } from '../core/errors';
import { TRACEPARENT_HEADER, type TraceSpan, type Tracing } from '../core/tracing';
import { writeTraced } from './batch-tracing';
import { decimalLsnBelow } from '../core/lsn';
import type { DeadLetterRecord } from './dead-letters';
import type { DeadLetter, DocumentSink } from './sink/es-document-sink';
import { chunkOps } from './transform/chunk-ops';
import { coalesce, toBulkOps, type BulkOp, type Origin, targetsOf } from './transform/to-bulk-ops';
import { carryForward, fillFromCurrent, type CurrentReader } from './transform/unchanged-fields';
import type { Position } from './watermark/positions';
import { joinedIndexes, rebuildRequests, type RebuildRequest } from './join/rebuild-requests';

export interface InboundMessage {
  offset: string;
  value: Buffer | null;
  /** Kafka record headers as kafkajs gives them; ingest sets `traceparent` on sampled changes (core/tracing.ts). */
  headers?: Readonly<Record<string, Buffer | string | Array<Buffer | string> | undefined>>;
}

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
  /** Builds the documents of joined indexes a run asks for, handing them to `write` batch by batch (join/joined-rebuilder.ts). */
  rebuild?: (requests: readonly RebuildRequest[], write: (ops: BulkOp[]) => Promise<void>) => Promise<void>;
  /** Spans of batches that carry sampled changes (docs/operations.md, "Traces"). Default: off. */
  tracing?: Tracing;
  /** Each traced change's searchable span once its batch is durable: ended after the refresh that makes it searchable (watermark/searchable-spans.ts). */
  searchable?: (spans: TraceSpan[]) => void;
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
 * A partition's batch decoded and mapped, ready to be written: runs of bulk ops (one op per
 * document, unchanged TOAST fields carried within the run) split by truncates. Pure CPU work, so
 * it can be done while the previous batch of the partition is still being written.
 */
export interface PreparedBatch {
  topic: string;
  partition: number;
  steps: Array<{ ops: BulkOp[]; rebuilds?: RebuildRequest[] } | { truncate: ChangeEvent; origin: Origin; indexes: string[] }>;
  /** Messages that are not valid change events. */
  invalid: DeadLetterRecord[];
  /** Highest commit LSN in the batch (heartbeats, truncates and dead letters included). */
  position?: Position;
  /** traceparent headers of the batch's sampled changes; absent when none has one. */
  traces?: string[];
}

/**
 * Decodes and maps one partition's batch. A truncate splits it: changes of the table before it
 * are dropped (the truncate removes them; written, they could carry the truncate's own version,
 * which its deletes spare), what comes after is written after it, so it survives.
 */
export function prepareBatch(topic: string, partition: number, messages: readonly InboundMessage[], indexes: readonly IndexSpec[]): PreparedBatch {
  const prepared: PreparedBatch = { topic, partition, steps: [], invalid: [] };
  const { flat, joined } = splitIndexes(indexes);
  let ops: BulkOp[] = [];
  let rebuilds: RebuildRequest[] = [];
  let maxLsn: string | undefined;
  let maxTs = '';
  const endRun = (): void => {
    // Unchanged TOAST fields are carried before coalescing: the op that stays holds them.
    if (ops.length || rebuilds.length) prepared.steps.push({ ops: coalesce(carryForward(ops)), ...(rebuilds.length ? { rebuilds } : {}) });
    ops = [];
    rebuilds = [];
  };
  for (const m of messages) {
    const origin = { topic, partition, offset: m.offset };
    const traceparent = m.headers?.[TRACEPARENT_HEADER];
    if (traceparent !== undefined) (prepared.traces ??= []).push(String(Array.isArray(traceparent) ? traceparent[0] : traceparent));
    let event: ChangeEvent;
    try {
      event = decodeChangeEvent(m.value ?? '');
      if (event.op !== 't') for (const op of toBulkOps(event, origin, flat, (m.value?.length ?? 0) + ACTION_LINE_BYTES)) ops.push(op);
      if (joined.length) for (const r of rebuildRequests(event, origin, joined)) rebuilds.push(r);
    } catch (err) {
      const payload = m.value?.toString() ?? '';
      prepared.invalid.push({ ...origin, errorType: 'invalid_event', reason: errorMessage(err), payload, id: safeId(payload) });
      continue;
    }
    if (event.op === 't') {
      const targets = targetsOf(indexes, event.source).map((i) => i.name);
      ops = ops.filter((o) => !targets.includes(o.index));
      rebuilds = rebuilds.filter((r) => !targets.includes(r.index)); // a root's truncate removes what they would rebuild
      endRun();
      prepared.steps.push({ truncate: event, origin, indexes: targets });
    }
    if (maxLsn === undefined || !decimalLsnBelow(event.commitLsn, maxLsn)) {
      maxLsn = event.commitLsn;
      maxTs = event.ts;
    }
  }
  endRun();
  if (maxLsn !== undefined) prepared.position = { lsn: BigInt(maxLsn), commitTs: maxTs };
  return prepared;
}

/**
 * Writes a prepared batch: each run in chunks, after filling unchanged TOAST fields from the
 * current documents (every earlier change is durable by then: earlier runs and batches of the
 * partition are written first), each truncate after the run before it, then parks what cannot be
 * written. Resolves only when every message is durable in Elasticsearch or in the dead-letter
 * topic, so the caller may then commit.
 */
export async function writeBatch(prepared: PreparedBatch, deps: BatchDeps): Promise<BatchResult> {
  if (!prepared.traces || !deps.tracing?.on) return writeSteps(prepared, deps);
  return writeTraced(prepared, prepared.traces, deps, deps.tracing, writeSteps);
}

async function writeSteps(prepared: PreparedBatch, deps: BatchDeps): Promise<BatchResult> {
  const dead: DeadLetterRecord[] = [...prepared.invalid];
  const result: BatchResult = { ops: 0, deadLetters: 0, written: new Set(), position: prepared.position };
  for (const step of prepared.steps) {
    if ('truncate' in step) {
      for (const index of step.indexes) {
        for (const d of await deps.truncate(index, step.truncate, step.origin)) dead.push(deadLetterOf(d));
        result.written.add(index);
      }
      continue;
    }
    const write = async (ops: readonly BulkOp[]): Promise<void> => {
      const chunks = chunkOps(ops, deps.maxDocsPerBulk, deps.maxBytesPerBulk);
      const results = await Promise.all(chunks.map((chunk) => deps.limit(() => deps.sink.write(chunk, deps.keepAlive))));
      for (const op of ops) result.written.add(op.index);
      for (const d of results.flat()) dead.push(deadLetterOf(d));
      result.ops += ops.length;
    };
    const ops = await fillFromCurrent(step.ops, deps.readCurrent);
    const unresolved = ops.filter((o) => o.unresolved);
    if (unresolved.length) deps.onUnresolved?.(unresolved);
    await write(ops);
    if (step.rebuilds?.length) {
      if (!deps.rebuild) throw new Error('joined indexes need the indexer\'s rebuild step (a Postgres connection)');
      await deps.rebuild(step.rebuilds, write);
    }
  }
  await deps.deadLetters(dead);
  result.deadLetters = dead.length;
  return result;
}

/** Prepares and writes one batch (see prepareBatch and writeBatch). */
export async function processBatch(topic: string, partition: number, messages: readonly InboundMessage[], deps: BatchDeps): Promise<BatchResult> {
  return writeBatch(prepareBatch(topic, partition, messages, deps.indexes), deps);
}

/** Single-table and joined indexes of a config (configs are frozen): spares a split per batch. */
const splitCache = new WeakMap<readonly IndexSpec[], { flat: IndexSpec[]; joined: IndexSpec[] }>();
function splitIndexes(indexes: readonly IndexSpec[]): { flat: IndexSpec[]; joined: IndexSpec[] } {
  let split = splitCache.get(indexes);
  if (!split) {
    const joined = joinedIndexes(indexes);
    splitCache.set(indexes, (split = { flat: indexes.filter((i) => !joined.includes(i)), joined }));
  }
  return split;
}


/** Upper bound of a bulk action line with index name, id and a 19-digit version. */
const ACTION_LINE_BYTES = 200;

function deadLetterOf(d: DeadLetter): DeadLetterRecord {
  return { index: d.op.index, id: d.op.id, lsn: d.op.lsn, commitLsn: d.op.version, ...d.op.origin, errorType: d.errorType, reason: d.reason, payload: d.op.source ?? JSON.stringify(d.op.doc ?? null) };
}

function safeId(payload: string): string | undefined {
  try {
    const key = (JSON.parse(payload) as { key?: Record<string, string> }).key;
    return key && typeof key === 'object' ? documentId(key) : undefined;
  } catch {
    return undefined;
  }
}
