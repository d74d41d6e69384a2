import type { ChangeEvent } from '../core/change-event';
import type { Logger } from '../core/logger';
import { backoffDelayMs, sleep } from '../core/retry';

/** Port in front of Kafka: resolves only when the broker acknowledged every event (acks=all). */
export interface EventPublisher {
  publish(events: readonly ChangeEvent[]): Promise<void>;
}

/**
 * Batches change events across transactions and decides what may be confirmed to Postgres.
 * The rule (docs/architecture.md, "Acknowledgement order"): a commit's end LSN is confirmed only after
 * every event up to and including that commit was acknowledged by Kafka. Memory stays
 * bounded: one batch may be in flight while the next fills; beyond that `add` waits for Kafka,
 * which pauses the replication stream (flow control) instead of buffering a large transaction
 * or a slow broker's backlog whole. At most about 2 x maxEvents events are held.
 * A batch Kafka cannot take for now (`retryWhile`: the broker is down or restarting) is sent
 * again, in order, with backoff, until it is acknowledged: the stream waits meanwhile and nothing
 * is confirmed, so a broker restart needs no operator. Other failures are fatal.
 */
export class CommitBatcher {
  private buffer: ChangeEvent[] = [];
  /** The last commit whose events are all in `buffer` or already sent (end LSN, commit time). */
  private pendingCommit: { lsn: bigint; ts: Date | undefined } | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Flushes handed to the chain and not finished yet, oldest first, with their event counts. */
  private inFlight: Array<{ events: number; done: Promise<void> }> = [];
  private inFlightEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private failed: unknown;
  /** Aborted by close(): wakes a batch waiting for Kafka to come back so it is given up at once. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly confirm: (commitEndLsn: bigint, commitTime: Date | undefined) => Promise<void>,
    private readonly opts: {
      maxEvents: number;
      flushIntervalMs: number;
      onSent?: (events: readonly ChangeEvent[], ms: number) => void;
      onFatal?: (err: unknown) => void;
      /** Failures worth waiting out by sending the batch again (default: none, every failure is fatal). */
      retryWhile?: (err: unknown) => boolean;
      /** Each failed attempt that will be retried. */
      onRetry?: (err: unknown) => void;
    },
    private readonly log: Logger,
  ) {}

  async add(events: readonly ChangeEvent[]): Promise<void> {
    this.throwIfFailed();
    this.buffer.push(...events);
    if (this.buffer.length >= this.opts.maxEvents) this.flush().catch(() => undefined); // kept in `failed`
    else this.arm();
    while (this.inFlightEvents > this.opts.maxEvents && this.inFlight[0]) await this.inFlight[0].done;
    this.throwIfFailed();
  }

  async commit(commitEndLsn: bigint, commitTime?: Date): Promise<void> {
    this.throwIfFailed();
    this.pendingCommit = { lsn: commitEndLsn, ts: commitTime };
    this.arm();
  }

  /** Events received and not yet acknowledged by Kafka (a gauge: bounded memory made visible). */
  pendingEvents(): number {
    return this.buffer.length + this.inFlightEvents;
  }

  /** Sends what is buffered and confirms the last complete commit. Flushes run one at a time, in order. */
  flush(): Promise<void> {
    this.disarm();
    const events = this.buffer;
    const commit = this.pendingCommit;
    this.buffer = [];
    this.pendingCommit = undefined;
    const entry = { events: events.length, done: Promise.resolve() };
    this.inFlightEvents += events.length;
    this.inFlight.push(entry);
    this.chain = this.chain.then(async () => {
      try {
        if (this.failed) return;
        if (events.length) {
          const started = Date.now();
          await this.publishUntilAcknowledged(events);
          this.opts.onSent?.(events, Date.now() - started);
        }
        if (commit !== undefined) await this.confirm(commit.lsn, commit.ts);
      } catch (err) {
        this.failed = err;
        // Given up by close() (Kafka still away): unfinished, not fatal; it is read again after restart.
        if (this.stopping.signal.aborted) this.log.warn('stopping with a batch Kafka has not acknowledged; nothing past the last confirmed commit is acknowledged', { events: events.length });
        else {
          this.log.error('publishing to Kafka failed; nothing past the last confirmed commit is acknowledged', { err, events: events.length });
          this.opts.onFatal?.(err);
        }
      } finally {
        this.inFlightEvents -= entry.events;
        this.inFlight.shift();
      }
    });
    entry.done = this.chain;
    return this.chain.then(() => this.throwIfFailed());
  }

  /** Flushes what is complete and stops the timer; a batch waiting for Kafka to come back is given up (not confirmed). */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.flush();
  }

  private async publishUntilAcknowledged(events: readonly ChangeEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.publisher.publish(events);
        if (attempt > 0) this.log.info('Kafka acknowledged the batch again; streaming resumes', { attempts: attempt + 1, events: events.length });
        return;
      } catch (err) {
        if (this.stopping.signal.aborted || !this.opts.retryWhile?.(err)) throw err;
        this.opts.onRetry?.(err);
        const delayMs = backoffDelayMs(attempt, { initialMs: 250, maxMs: 5000 });
        // Every attempt would flood the log during a long outage; the first and every 20th say it is still going on.
        if (attempt % 20 === 0) this.log.warn('Kafka did not acknowledge a batch; sending it again until it does (nothing is confirmed to Postgres meanwhile, the slot keeps the WAL)', { err, attempt: attempt + 1, events: events.length });
        await sleep(delayMs, this.stopping.signal);
        // Woken by close(): give the batch up now rather than after one more full attempt.
        if (this.stopping.signal.aborted) throw err;
      }
    }
  }

  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined); // the failure is kept and thrown to the next add/commit
    }, this.opts.flushIntervalMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failed;
  }
}
