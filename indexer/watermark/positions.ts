import { randomBytes } from 'node:crypto';

/**
 * What this process knows about its partitions: per (topic, partition) the highest commit LSN
 * processed (durable in Elasticsearch or dead-lettered), a data mark, and which indexes got
 * writes since the last refresh. The watermark task takes all of it at once, refreshes, then
 * publishes the positions taken before the refresh.
 */
export interface Position {
  lsn: bigint;
  commitTs?: string;
  /**
   * Replaced whenever a batch of the partition wrote documents (index, delete, truncate), kept
   * when it only moved the position (heartbeats): cache generations follow it, not the LSN.
   */
  dataMark?: string;
}

/** A batch that moved its partition's position: what commit-to-searchable is measured from. */
export interface CommitSample {
  topic: string;
  /** The event `ts` (commit time) of the batch's highest commit LSN. */
  commitTs: string;
}

/** What the watermark task takes at once. */
export interface Taken {
  positions: Map<string, Map<number, Position>>;
  dirty: Set<string>;
  /** One per batch recorded since the last take, at or above its partition's position. */
  commits: CommitSample[];
}

/**
 * Samples kept between two takes at most. Batches are recorded only once durable, so this is
 * reached only if the watermark task stalls for long; later batches then go unmeasured rather
 * than holding memory (the watermark age still shows the stall).
 */
const MAX_PENDING_COMMITS = 10_000;

export class PositionTracker {
  private readonly positions = new Map<string, Map<number, Position>>();
  private dirty = new Set<string>();
  private commits: CommitSample[] = [];
  // Marks are this process's epoch and a counter: they never repeat, not even across restarts
  // or processes taking a partition over, so a stored mark cannot come back to a value that
  // cached answers were keyed on before a later write.
  private readonly epoch = randomBytes(6).toString('base64url');
  private marks = 0;

  /**
   * `written`: the indexes the batch wrote to (empty for heartbeats only); a caller that does not
   * say is taken to have written. The first batch of a partition this process (newly) owns gets
   * a new mark whatever it carried: it cannot know what the previous owner wrote after the mark
   * it last published.
   */
  record(topic: string, partition: number, position: Position, written?: Iterable<string>): void {
    let byPartition = this.positions.get(topic);
    if (!byPartition) this.positions.set(topic, (byPartition = new Map()));
    const cur = byPartition.get(partition);
    const wrote = !cur || written === undefined || !isEmpty(written);
    const dataMark = wrote ? this.nextMark() : cur.dataMark;
    // A replay after a restart does not move the position back, but what it wrote still counts.
    const kept = cur && position.lsn < cur.lsn ? cur : position;
    // Replays below the position were searchable before; the rest of a transaction split across
    // batches (same LSN) was not.
    if (kept === position && position.commitTs && this.commits.length < MAX_PENDING_COMMITS) this.commits.push({ topic, commitTs: position.commitTs });
    byPartition.set(partition, { lsn: kept.lsn, ...(kept.commitTs ? { commitTs: kept.commitTs } : {}), ...(dataMark ? { dataMark } : {}) });
  }

  markWritten(indexes: Iterable<string>): void {
    for (const i of indexes) this.dirty.add(i);
  }

  /** Forgets partitions this process no longer owns after a rebalance. */
  retain(assignment: Readonly<Record<string, readonly number[]>>): void {
    for (const [topic, byPartition] of this.positions) {
      const owned = new Set(assignment[topic] ?? []);
      for (const p of [...byPartition.keys()]) if (!owned.has(p)) byPartition.delete(p);
    }
  }

  /** Positions, the indexes to refresh and the commits they make searchable, taken together; the dirty set and the commits start over. */
  take(): Taken {
    const positions = new Map([...this.positions].map(([t, m]) => [t, new Map(m)]));
    const { dirty, commits } = this;
    this.dirty = new Set();
    this.commits = [];
    return { positions, dirty, commits };
  }

  /** A refresh failed: those indexes still need one, and those commits are not searchable yet. */
  restore(taken: Pick<Taken, 'dirty' | 'commits'>): void {
    this.markWritten(taken.dirty);
    this.commits = [...taken.commits, ...this.commits].slice(0, MAX_PENDING_COMMITS);
  }

  private nextMark(): string {
    return `${this.epoch}.${(++this.marks).toString(36)}`;
  }
}

function isEmpty(items: Iterable<string>): boolean {
  for (const _ of items) return false;
  return true;
}
