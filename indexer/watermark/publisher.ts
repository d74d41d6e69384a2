import type { Client } from '@elastic/elasticsearch';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { publishPositions, type PartitionPosition } from '../../core/watermark-store';
import type { CommitSample, PositionTracker } from './positions';
import type { SearchableSpans } from './searchable-spans';

export interface WatermarkPublisherDeps {
  es: Client;
  tracker: PositionTracker;
  /** Index names fed by each topic. */
  indexesByTopic: ReadonlyMap<string, readonly string[]>;
  /** Partition count of a topic, if known; positions of an unknown topic are not published. */
  partitionCount: (topic: string) => number | undefined;
  intervalMs: number;
  log: Logger;
  /** Called after each successful publish with what was published. */
  onPublished?: (positions: readonly PartitionPosition[]) => void;
  /**
   * Called once the batches recorded since the last tick are searchable (refreshed, or nothing
   * to refresh: heartbeats), per index their topic feeds: seconds from each batch's commit.
   */
  onSearchable?: (index: string, seconds: number) => void;
  /**
   * Before each refresh, given the indexes written since the last: more indexes to refresh, and
   * `after`, called once the refresh completed (joined indexes forget the refs they wrote before
   * it: join/written-refs.ts).
   */
  beforeRefresh?: (dirty: ReadonlySet<string>) => { indexes: readonly string[]; after: () => void };
  /** Traced changes waiting for this refresh (searchable-spans.ts). */
  spans?: SearchableSpans;
}

/**
 * Every `intervalMs`: take the positions, refresh the indexes written since the last refresh,
 * and only then publish the positions taken before the refresh. Everything up to a published
 * position was durable before the refresh began, so the refresh made it searchable; likewise
 * every write a published data mark stands for.
 */
export class WatermarkPublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: WatermarkPublisherDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and waits for a tick in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One refresh-and-publish round; exported for tests and for a final flush on close. */
  async tick(): Promise<void> {
    const { es, tracker, indexesByTopic, partitionCount, log } = this.deps;
    const taken = tracker.take();
    const spans = this.deps.spans;
    // Taken with the positions: every change they stand for was durable before this refresh began.
    const traced = spans?.take() ?? [];
    const { positions, dirty } = taken;
    const hook = this.deps.beforeRefresh?.(dirty);
    const refreshed = new Set([...dirty, ...(hook?.indexes ?? [])]);
    if (refreshed.size) {
      const span = spans?.refreshSpan(traced, [...refreshed]);
      try {
        const res = await es.indices.refresh({ index: [...refreshed], ignore_unavailable: true });
        span?.end();
        // A shard that failed to refresh does not show what was written to it.
        if (!res?._shards?.failed) hook?.after();
      } catch (err) {
        span?.end(err);
        spans?.restore(traced);
        tracker.restore(taken);
        log.warn('refresh failed; watermark not advanced', { err: errorMessage(err), indexes: [...refreshed] });
        return;
      }
    }
    this.observeSearchable(taken.commits, Date.now());
    spans?.searchable(traced);
    const out: PartitionPosition[] = [];
    for (const [topic, byPartition] of positions) {
      const partitions = partitionCount(topic);
      if (partitions === undefined) continue;
      for (const index of indexesByTopic.get(topic) ?? []) {
        for (const [partition, p] of byPartition) out.push({ index, topic, partition, partitions, lsn: p.lsn, ...(p.commitTs ? { commitTs: p.commitTs } : {}), ...(p.dataMark ? { dataMark: p.dataMark } : {}) });
      }
    }
    try {
      await publishPositions(es, out);
      this.deps.onPublished?.(out);
    } catch (err) {
      log.warn('publishing the watermark failed; will try again', { err: errorMessage(err) });
    }
  }

  private observeSearchable(commits: readonly CommitSample[], now: number): void {
    const { onSearchable, indexesByTopic } = this.deps;
    if (!onSearchable) return;
    for (const c of commits) {
      const ms = Date.parse(c.commitTs);
      if (!Number.isFinite(ms)) continue;
      // Postgres's clock against ours: a commit "in the future" is skew, not negative latency.
      const seconds = Math.max(0, now - ms) / 1000;
      for (const index of indexesByTopic.get(c.topic) ?? []) onSearchable(index, seconds);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.deps.intervalMs);
  }
}
