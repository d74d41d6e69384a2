import { canonicalKey, type ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import type { Watermark } from '../source/pg-messages';
import { toSnapshotDelete, toSnapshotEvent, type RawTuple, type RelationInfo, type TxContext } from '../transform/to-change-events';

/** What the snapshot reader hands over for one chunk; `rows` is set between the two watermarks. */
export interface Chunk {
  id: string;
  relation: RelationInfo;
  rows?: RawTuple[];
  /**
   * Keys (key column tuples) read and found without a row: published as deletes, under the same
   * rule as the rows (a key changed in the window is left to the stream). Set with `rows`.
   */
  absent?: RawTuple[];
}

export interface ChunkResult {
  /** Rows published as 'r' events (the others were changed in the window: the stream has them). */
  emitted: number;
  skipped: number;
}

/**
 * The stream side of the watermark snapshot (DBLog, https://arxiv.org/abs/2010.12597). Between a
 * chunk's low and high watermark the stream collects the keys of that table changed by committed
 * transactions; at the high watermark the chunk's rows are published except those keys, as 'r'
 * events versioned with the high watermark's commit LSN. Why this has no gap and no stale row:
 * - a transaction committed before the low watermark is in the chunk (read after it);
 * - one committed between the watermarks may or may not be: its keys are left to the stream;
 * - one committed after the high watermark has a higher commit LSN, so it wins in the index,
 *   also when it was open during the read (docs/reliability.md #16).
 * The chunk becomes done once Kafka acknowledged it: when the high watermark's commit is confirmed.
 */
export class ChunkWindows {
  private chunk: Chunk | undefined;
  private window: Set<string> | undefined;
  private truncated = false;
  private highCommitLsn: bigint | undefined;
  private result: ChunkResult | undefined;
  private settle: { resolve: (r: ChunkResult) => void; reject: (e: unknown) => void } | undefined;

  constructor(private readonly slot: string) {}

  /** Registers the next chunk; resolves once its events are acknowledged by Kafka. One chunk at a time. */
  expect(chunk: Chunk): Promise<ChunkResult> {
    if (this.chunk) throw new Error(`snapshot chunk ${this.chunk.id} is still open`);
    this.chunk = chunk;
    this.window = undefined;
    this.truncated = false;
    this.highCommitLsn = undefined;
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  /** Stream side: changes of committed transactions, in WAL order. */
  observe(events: readonly ChangeEvent[]): void {
    const c = this.chunk;
    if (!c || !this.window) return;
    for (const e of events) {
      if (e.source.schema !== c.relation.schema || e.source.table !== c.relation.name) continue;
      if (e.op === 't') this.truncated = true;
      else this.window.add(canonicalKey(e.key));
    }
  }

  /** Stream side: one of our watermarks. Returns the events to publish in the watermark's transaction. */
  onWatermark(w: Watermark, lsn: bigint, tx: TxContext): ChangeEvent[] {
    const c = this.chunk;
    if (w.slot !== this.slot || !c || w.chunk !== c.id) return []; // another pipeline's, or an old run's chunk
    if (w.mark === 'low') {
      this.window = new Set();
      return [];
    }
    if (!this.window) return []; // a high without its low: never published, the chunk is re-read after restart
    if (!c.rows) throw new PipelineError(`snapshot chunk ${c.id} reached its high watermark without rows`, { code: 'SNAPSHOT_ORDER', retriable: true });
    const window = this.window;
    const read = c.rows.map((r) => toSnapshotEvent(c.relation, r, lsn.toString(), tx)).concat((c.absent ?? []).map((k) => toSnapshotDelete(c.relation, k, lsn.toString(), tx)));
    const events = this.truncated ? [] : read.filter((e) => !window.has(canonicalKey(e.key)));
    this.result = { emitted: events.length, skipped: read.length - events.length };
    this.highCommitLsn = BigInt(tx.commitLsn);
    this.window = undefined;
    c.rows = undefined; // memory: one chunk at a time
    c.absent = undefined;
    return events;
  }

  /** Called with each commit end LSN confirmed to Postgres (all events up to it acknowledged). */
  confirmed(commitEndLsn: bigint): void {
    if (this.highCommitLsn === undefined || commitEndLsn <= this.highCommitLsn) return;
    const done = this.settle;
    const result = this.result ?? { emitted: 0, skipped: 0 };
    this.reset();
    done?.resolve(result);
  }

  /** Stops waiting (shutdown or a fatal error): the chunk is re-read after restart. */
  abort(err: unknown): void {
    const s = this.settle;
    this.reset();
    s?.reject(err);
  }

  private reset(): void {
    this.chunk = undefined;
    this.window = undefined;
    this.settle = undefined;
    this.highCommitLsn = undefined;
    this.result = undefined;
  }
}
