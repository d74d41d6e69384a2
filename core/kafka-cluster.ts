/**
 * The cluster and topic-layout port: what the services ask Kafka's admin side (which topics exist,
 * their partitions and leaders, offsets, configs; creating topics). One adapter sits behind it
 * (core/kafkajs-cluster.ts); the services never open an admin client themselves, so a client swap
 * is that file, and every connection opened is closed (withCluster).
 */
export interface PartitionLayout {
  partition: number;
  /** Node id of the leader; -1 while there is none (an election, a topic being created). */
  leader: number;
  replicas: number[];
}

export interface TopicDescription {
  name: string;
  /** Sorted by partition number. */
  partitions: PartitionLayout[];
}

/** Offsets as decimal text (Kafka's int64s pass 2^53). */
export interface PartitionOffsets {
  partition: number;
  /** The first offset still held (retention moves it). */
  low: string;
  /** The next offset to be written (the high watermark). */
  high: string;
}

export interface NewTopic {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: Array<{ name: string; value: string }>;
}

export interface KafkaCluster {
  /** Every topic name of the cluster. */
  topicNames(): Promise<string[]>;
  /** Broker addresses by node id, and the controller's node id (null when unknown). */
  describeCluster(): Promise<{ brokers: Map<number, { host: string; port: number }>; controller: number | null }>;
  /** Partitions, leaders and replicas of the topics; an unknown topic fails (UNKNOWN_TOPIC_OR_PARTITION). */
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>;
  /** Creates the topics and returns once each partition has a leader. */
  createTopics(topics: readonly NewTopic[]): Promise<void>;
  /** Each partition's low and high watermark. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** What the group committed per partition; '-1' where it committed nothing. */
  committed(groupId: string, topics: readonly string[]): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  /** Moves the group's committed offsets (the group must have no member). */
  setCommitted(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: string }>): Promise<void>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /** The named configs' values in effect for each topic (its own, or the broker's default). */
  topicConfigs(topics: readonly string[], names: readonly string[]): Promise<Map<string, Map<string, string>>>;
  close(): Promise<void>;
}

/** Opens a cluster connection (kafkajsCluster(kafka), say): for code that holds one only while it asks. */
export type ClusterSource = () => KafkaCluster;

/** Runs `fn` with a cluster connection and closes it however `fn` ends. */
export async function withCluster<T>(cluster: KafkaCluster, fn: (cluster: KafkaCluster) => Promise<T>): Promise<T> {
  try {
    return await fn(cluster);
  } finally {
    await cluster.close();
  }
}

/** Partition count per topic. */
export async function partitionCounts(cluster: KafkaCluster, topics: readonly string[]): Promise<Map<string, number>> {
  // No topics asked: some clients would describe every topic of the cluster.
  if (!topics.length) return new Map();
  return new Map((await cluster.describeTopics(topics)).map((t) => [t.name, t.partitions.length]));
}

/** The topics of `topics` that exist: a describe of a missing one fails as a whole. */
export async function existing(cluster: KafkaCluster, topics: readonly string[]): Promise<string[]> {
  const names = new Set(await cluster.topicNames());
  return topics.filter((t) => names.has(t));
}

/**
 * Consumer lag of the group per partition: the partition's high watermark minus the group's
 * committed offset (or minus the low watermark when nothing is committed yet).
 */
export async function consumerLag(cluster: KafkaCluster, groupId: string, topics: readonly string[]): Promise<Array<{ topic: string; partition: number; lag: number }>> {
  const out: Array<{ topic: string; partition: number; lag: number }> = [];
  for (const { topic, partitions } of await cluster.committed(groupId, topics)) {
    for (const end of await cluster.offsets(topic)) {
      const c = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(c) < 0n ? BigInt(end.low) : BigInt(c);
      out.push({ topic, partition: end.partition, lag: Number(BigInt(end.high) - from) });
    }
  }
  return out;
}
