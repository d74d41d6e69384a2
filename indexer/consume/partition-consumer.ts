import { PipelineError, errorMessage } from '../../core/errors';
import type { Assignment, ConsumedMessage, FetchedBatch, GroupConsumer } from '../../core/kafka-group-consumer';
import { isKafkaUnavailable, untilKafkaAvailable } from '../../core/kafka-unavailable';
import type { Logger } from '../../core/logger';
import { backoffDelayMs, sleep } from '../../core/retry';
import { PartitionWriter } from '../partition-writer';

/** What is done with each partition's batches: prepared while the previous one is written, then written. */
export interface BatchHandler<P> {
  /** Decodes the batch (synchronously, while the partition's previous batch may still be written). */
  prepare(topic: string, partition: number, messages: readonly ConsumedMessage[]): P;
  /**
   * Makes the batch durable (or dead-lettered); its offset is committed once this resolves.
   * `keepAlive` heartbeats the group, for long waits inside.
   */
  write(prepared: P, keepAlive: () => Promise<void>): Promise<void>;
}

export interface PartitionConsumerOptions<P> {
  consumer: GroupConsumer;
  topics: readonly string[];
  handler: BatchHandler<P>;
  /** Partitions whose batches are handled at once. */
  partitionsConcurrently: number;
  /** How often the group hears from this member while a batch waits or is written. */
  heartbeatIntervalMs: number;
  log: Logger;
  /** The consumer cannot go on: an error retrying will not fix. */
  onFatal: (err: unknown) => void;
  /** The member holds `assignment` now (after every group join). */
  onAssignment?: (assignment: Assignment) => void;
  /** Messages handed to a write and not yet committed (inc on hand-over, dec when done). */
  inFlight?: { inc(n: number): void; dec(n: number): void };
}

/**
 * The indexer's side of the consumer group, without the indexing. Per partition, a batch is
 * prepared while the previous one is written, and written only after it is durable and committed
 * (partition-writer.ts), so a document's changes are written in order; the next fetch goes on
 * meanwhile. An offset is committed only after its batch is written. A failed write is read again
 * from Kafka: the partition is rewound to the failed batch, after a backoff that grows with each
 * failure in a row; an error retrying cannot fix (a PipelineError that is not retriable) stops
 * the consumer (onFatal). On a rebalance the batches handed over are finished before the group
 * moves their partitions. When the client gives the consumer up for good because Kafka was
 * unavailable, the member joins the group again with backoff instead of stopping.
 */
export function createPartitionConsumer<P>(opts: PartitionConsumerOptions<P>) {
  const { consumer, topics, handler, log } = opts;
  const writer = new PartitionWriter();
  const closing = new AbortController();
  let assigned: Assignment = {};
  const heartbeating = (topic: string, partition: number, heartbeat: () => Promise<void>) =>
    setInterval(() => heartbeat().catch((err: unknown) => log.warn('heartbeat failed', { topic, partition, err: errorMessage(err) })), opts.heartbeatIntervalMs);

  const owns = (topic: string, partition: number): boolean => assigned[topic]?.includes(partition) ?? false;

  /** Writes a prepared batch, then commits its offset: durable or dead-lettered first. */
  const writeAndCommit = async (topic: string, partition: number, prepared: P, last: string, heartbeat: () => Promise<void>): Promise<void> => {
    const ticker = heartbeating(topic, partition, heartbeat);
    try {
      await handler.write(prepared, heartbeat);
      await consumer.commit(topic, partition, (BigInt(last) + 1n).toString());
    } finally {
      clearInterval(ticker);
    }
  };

  const eachBatch = async (batch: FetchedBatch): Promise<void> => {
    const { topic, partition, isRunning, isStale, heartbeat } = batch;
    const gone = () => !isRunning() || isStale() || closing.signal.aborted;
    if (gone() || batch.messages.length === 0) return;
    // Heartbeats keep flowing while this waits for the partition's previous batch, so the group
    // does not evict this member while the sink is slow or retried.
    const ticker = heartbeating(topic, partition, heartbeat);
    try {
      const failures = writer.failuresOf(topic, partition);
      if (failures) await sleep(backoffDelayMs(failures - 1, { initialMs: 300, maxMs: 30_000 }), closing.signal);
      // Decoded while the previous batch is still being written.
      const prepared = handler.prepare(topic, partition, batch.messages);
      if (!(await writer.previous(topic, partition)) || gone()) return; // read again from the failed batch
      const first = batch.messages[0]!.offset;
      const last = batch.lastOffset();
      // The next fetch goes on after this batch; the offset is committed once it is written.
      batch.resolveOffset(last);
      const n = batch.messages.length;
      opts.inFlight?.inc(n);
      writer.start(topic, partition, () => writeAndCommit(topic, partition, prepared, last, heartbeat).finally(() => opts.inFlight?.dec(n)), (err) => {
        // One that retrying cannot fix stops us; anything else is read again from this batch, after a backoff.
        if (err instanceof PipelineError && !err.retriable) return opts.onFatal(err);
        if (closing.signal.aborted) return;
        log.warn('writing a batch failed; reading the partition again from it', { topic, partition, offset: first, err: errorMessage(err) });
        try {
          consumer.seek(topic, partition, first);
        } catch (seekErr) {
          log.warn('could not rewind the partition; it is read again after a restart', { topic, partition, err: errorMessage(seekErr) });
        }
      });
      await heartbeat();
    } catch (err) {
      // A rebalance: finish what was handed over before the group moves partitions elsewhere.
      if (consumer.isRebalance(err)) await writer.drain();
      if (err instanceof PipelineError && !err.retriable) opts.onFatal(err);
      throw err;
    } finally {
      clearInterval(ticker);
    }
  };

  const run = () => consumer.run({ partitionsConcurrently: opts.partitionsConcurrently, eachBatch });

  /** The client gave the consumer up while Kafka was away: join the group again once it answers. */
  const rejoin = (cause: unknown): void => {
    log.warn('Kafka unavailable: the consumer stopped; joining the group again (nothing is committed meanwhile)', { err: errorMessage(cause) });
    void sleep(backoffDelayMs(0, { initialMs: 1_000, maxMs: 30_000 }), closing.signal)
      .then(() => untilKafkaAvailable(async () => {
        if (closing.signal.aborted) return;
        try {
          await consumer.connect();
          await run();
        } catch (err) {
          // A failed start leaves the client believing it runs: stop it, or the next run is ignored.
          await consumer.disconnect().catch(() => undefined);
          throw err;
        }
      }, { what: "the indexer's consumer", log, signal: closing.signal }))
      .catch((err: unknown) => {
        if (!closing.signal.aborted) opts.onFatal(err);
      });
  };

  return {
    /** Whether this member holds the partition now: a write finishing after its partition moved away must not publish its position. */
    owns,
    get assignment(): Assignment {
      return assigned;
    },
    /** Joins the group and subscribes; safe to run again after a failure (untilKafkaAvailable). */
    async connect(): Promise<void> {
      await consumer.connect();
      await consumer.subscribe(topics);
    },
    /** Starts the batch loop (the group join goes on in the background). */
    async run(): Promise<void> {
      consumer.onCrash((error, restarting) => {
        if (restarting) return; // the client joins again by itself
        // A client gives up for good when no broker answers the coordinator lookup: a Kafka outage,
        // not a fault of ours. Join again with backoff instead of exiting (as ingest rides it out).
        if (!closing.signal.aborted && isKafkaUnavailable(error)) rejoin(error);
        else opts.onFatal(error);
      });
      consumer.onAssignment((assignment) => {
        assigned = assignment;
        opts.onAssignment?.(assignment);
      });
      await run();
    },
    /** Stops fetching, finishes and commits the batches handed over, then leaves the group. */
    async close(): Promise<void> {
      closing.abort();
      try {
        consumer.pause(topics);
      } catch {
        // not running: nothing was handed over
      }
      await writer.drain();
      await consumer.disconnect();
    },
  };
}

export type PartitionConsumer = ReturnType<typeof createPartitionConsumer>;
