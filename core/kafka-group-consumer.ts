/**
 * The consumer-group port: a member of a Kafka consumer group that hands over fetched batches
 * per partition and commits only what it is told to. Client-neutral; kafkajs sits behind it
 * (core/kafkajs-group-consumer.ts). The batch loop built on it (what is written when, rewinds,
 * rejoining) is indexer/consume/partition-consumer.ts.
 */
export interface ConsumedMessage {
  /** Decimal text: offsets pass 2^53. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
  /** Milliseconds since the epoch as decimal text (the producer's create time, or the broker's log-append time). */
  timestamp: string;
}

/** One fetched batch of one partition, as handed to the batch handler. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
  /** The offset of the batch's last message. */
  lastOffset(): string;
  /** The next fetch of the partition starts after `offset` (nothing is committed). */
  resolveOffset(offset: string): void;
  /** Tells the group this member is alive; rejects when the group is rebalancing. */
  heartbeat(): Promise<void>;
  /** False once the consumer stops. */
  isRunning(): boolean;
  /** True once the batch is outdated: its partition was rewound or handed elsewhere. */
  isStale(): boolean;
}

/** Which partitions of which topics this member holds. */
export type Assignment = Record<string, number[]>;

export interface GroupConsumer {
  connect(): Promise<void>;
  /** Every partition from its committed offset, or from the first offset where nothing is committed. */
  subscribe(topics: readonly string[]): Promise<void>;
  /** Starts fetching: `eachBatch` is awaited before the partition's next batch; partitions run concurrently up to `partitionsConcurrently`. */
  run(opts: { partitionsConcurrently: number; eachBatch: (batch: FetchedBatch) => Promise<void> }): Promise<void>;
  /** Commits `offset` (the next to read) of the partition for the group. */
  commit(topic: string, partition: number, offset: string): Promise<void>;
  /** Reads the partition again from `offset`; throws when the partition is not assigned here. */
  seek(topic: string, partition: number, offset: string): void;
  /** Stops fetching the topics (batches handed over already stay). Throws when not running. */
  pause(topics: readonly string[]): void;
  /** Leaves the group. */
  disconnect(): Promise<void>;
  /**
   * The consumer failed. `restarting`: the client joins the group again by itself; otherwise
   * it stopped for good and the owner decides (join again, or stop).
   */
  onCrash(listener: (error: unknown, restarting: boolean) => void): void;
  /** The member joined the group (again) and holds `assignment` now. */
  onAssignment(listener: (assignment: Assignment) => void): void;
  /** Whether an error thrown from a batch (a heartbeat's answer) means the group is rebalancing. */
  isRebalance(err: unknown): boolean;
}
