import type { KafkaClient } from './kafka-client';
import { PLAINTEXT, type KafkaSecurity } from './kafka-security';
import { isTransientTopicError } from './kafka-unavailable';
import { withCluster, type KafkaCluster, type TopicDescription } from './kafka-cluster';
import { createKafkajs, createToolKafkajs, kafkajsClient } from './kafkajs-client';
import type { Logger } from './logger';
import { backoffDelayMs, sleep } from './retry';
import { replicationConfigEntries, replicationWarnings, resolveReplication, type TopicReplication } from './topic-replication';

/**
 * The Kafka client of a service: the one place that picks the library behind the ports
 * (core/kafka-client.ts); kafkajs today (core/kafkajs-client.ts, docs/benchmarks.md "Kafka
 * clients" for why). Logs go through our structured logger; `security`: TLS and SASL
 * (KAFKA_TLS*, KAFKA_SASL_*).
 */
export function createKafka(brokers: string[], clientId: string, log: Logger, security: KafkaSecurity = PLAINTEXT): KafkaClient {
  return kafkajsClient(createKafkajs(brokers, clientId, log, security));
}

/** The client of a one-shot tool (status, dead letters): quiet, since the tool reports failures itself, and quick to give up. */
export function createToolKafka(brokers: string[], clientId: string, timeoutMs: number, security: KafkaSecurity = PLAINTEXT): KafkaClient {
  return kafkajsClient(createToolKafkajs(brokers, clientId, timeoutMs, security));
}

/**
 * Topics keep every event: a reindex rebuilds an index by replaying its topic from offset 0, which
 * is only the source of truth if nothing was deleted. Compaction is no substitute: truncates and
 * heartbeats share the empty key, so compaction would drop truncates and a replay would resurrect
 * truncated rows. (Disk grows with the change history; see docs/reindex.md.)
 */
export const RETAIN_FOREVER = [{ name: 'retention.ms', value: '-1' }, { name: 'retention.bytes', value: '-1' }];

export interface EnsureTopicsOptions {
  /** KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS; unset parts are picked from the cluster (core/topic-replication.ts). */
  replication?: TopicReplication;
  /** Where warnings go: a weak replication choice, existing topics with fewer copies. */
  log?: Logger;
  timeoutMs?: number;
  configEntries?: Array<{ name: string; value: string }>;
}

/**
 * Creates the per-table topics up front so partition counts and replication are ours, not the
 * broker default, and returns only once every partition has a leader, so the first produce or
 * subscribe cannot hit a topic the broker does not serve yet.
 */
export async function ensureTopics(kafka: KafkaClient, topics: string[], numPartitions: number, opts: EnsureTopicsOptions = {}): Promise<Map<string, number>> {
  return withCluster(kafka.cluster(), (cluster) => ensureTopicsOn(cluster, topics, numPartitions, opts));
}

/** ensureTopics through a cluster connection the caller holds (and closes). */
export async function ensureTopicsOn(cluster: KafkaCluster, topics: string[], numPartitions: number, opts: EnsureTopicsOptions = {}): Promise<Map<string, number>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const names = new Set(await cluster.topicNames());
      const missing = topics.filter((t) => !names.has(t));
      const brokers = (await cluster.describeCluster()).brokers.size;
      // Resolved on every call, so a bad explicit setting fails the start even when the topics exist.
      const replication = resolveReplication(opts.replication ?? {}, brokers);
      if (missing.length) {
        for (const w of replicationWarnings(replication, brokers)) opts.log?.warn(w, { ...replication, brokers });
        const configEntries = [...(opts.configEntries ?? RETAIN_FOREVER), ...replicationConfigEntries(replication)];
        await cluster.createTopics(missing.map((topic) => ({ topic, numPartitions, replicationFactor: replication.replicationFactor, configEntries })));
      }
      const meta = await cluster.describeTopics(topics);
      const leaderless = meta.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) {
        warnFewerCopies(meta, replication.replicationFactor, missing, opts.log);
        return new Map(meta.map((t) => [t.name, t.partitions.length]));
      }
      if (Date.now() > deadline) throw new Error(`Kafka topics have no leader yet: ${leaderless.map((t) => t.name).join(', ')}`);
    } catch (err) {
      if (!isTransientTopicError(err) || Date.now() > deadline) throw err;
    }
    await sleep(backoffDelayMs(attempt, { initialMs: 100, maxMs: 2_000 }));
  }
}

/** Topics created earlier keep their replication (Kafka changes it only by a partition reassignment): say so. */
function warnFewerCopies(meta: readonly TopicDescription[], wanted: number, created: string[], log: Logger | undefined): void {
  for (const t of meta) {
    if (created.includes(t.name)) continue;
    const copies = Math.min(...t.partitions.map((p) => p.replicas.length));
    if (copies < wanted) log?.warn(`topic ${t.name} has replication factor ${copies}, below the ${wanted} new topics get, and keeps it: raise it with kafka-reassign-partitions.sh (docs/scaling.md)`, { topic: t.name, replicationFactor: copies, wanted });
  }
}

/**
 * Topics that existed before with another partition count than the config asks for keep theirs
 * (Kafka never shrinks a topic, and growing one moves keys to other partitions, which breaks
 * per-key order): say so instead of letting TOPIC_PARTITIONS look applied.
 */
export function warnPartitionMismatch(counts: ReadonlyMap<string, number>, wanted: number, log: Logger): void {
  for (const [topic, partitions] of counts) {
    if (partitions !== wanted) log.warn(`topic ${topic} has ${partitions} partitions and keeps them; TOPIC_PARTITIONS=${wanted} applies only to topics created from now on`, { topic, partitions, wanted });
  }
}
