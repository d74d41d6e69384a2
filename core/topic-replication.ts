import { ConfigError } from './errors';

/**
 * Replication of the topics the pipeline creates (KAFKA_REPLICATION_FACTOR,
 * KAFKA_MIN_INSYNC_REPLICAS; docs/scaling.md). Unset means "pick from the cluster":
 * replication factor min(3, brokers) and min.insync.replicas one below it (at least 1).
 * That is 3/2 on a production cluster, so a produce with acks=all survives one broker down
 * and is on two brokers before it is acknowledged, and 1/1 on the local single node, which
 * cannot hold more: one default that is safe on a cluster and still runs on a laptop.
 */
export interface TopicReplication {
  /** Copies of each partition; undefined: min(3, brokers in the cluster). */
  replicationFactor?: number;
  /** Copies that must have a write before acks=all succeeds; undefined: replication factor − 1, at least 1. */
  minInsyncReplicas?: number;
}

export interface ResolvedReplication { replicationFactor: number; minInsyncReplicas: number }

const AUTO_MAX = 3;

/** What the topics are created with on a cluster of `brokers` brokers; a bad explicit setting says what to set instead. */
export function resolveReplication(setting: TopicReplication, brokers: number): ResolvedReplication {
  const rf = setting.replicationFactor ?? Math.max(1, Math.min(AUTO_MAX, brokers));
  if (rf > brokers) {
    throw new ConfigError(`KAFKA_REPLICATION_FACTOR=${rf} but the Kafka cluster has ${brokers} broker(s): a topic cannot have more copies than brokers. Set KAFKA_REPLICATION_FACTOR to at most ${brokers}, or leave it unset to use min(3, brokers).`, { variable: 'KAFKA_REPLICATION_FACTOR' });
  }
  const minIsr = setting.minInsyncReplicas ?? Math.max(1, rf - 1);
  if (minIsr > rf) {
    throw new ConfigError(`KAFKA_MIN_INSYNC_REPLICAS=${minIsr} is above the replication factor ${rf}: every acks=all produce would fail. Set it to at most ${rf} (${Math.max(1, rf - 1)} lets one broker be down).`, { variable: 'KAFKA_MIN_INSYNC_REPLICAS' });
  }
  return { replicationFactor: rf, minInsyncReplicas: minIsr };
}

/** Warnings about a resolved choice that runs but does not protect what people expect. */
export function replicationWarnings(r: ResolvedReplication, brokers: number): string[] {
  const out: string[] = [];
  if (r.replicationFactor === 1 && brokers > 1) out.push(`topics get replication factor 1 on a cluster of ${brokers} brokers: losing one broker loses its partitions' events. Set KAFKA_REPLICATION_FACTOR=3 (or leave it unset).`);
  else if (r.replicationFactor > 1 && r.minInsyncReplicas === 1) out.push(`min.insync.replicas is 1 with replication factor ${r.replicationFactor}: an acks=all produce is acknowledged with one copy, which a broker loss can take. Set KAFKA_MIN_INSYNC_REPLICAS=${r.replicationFactor - 1}.`);
  else if (r.replicationFactor > 1 && r.minInsyncReplicas === r.replicationFactor) out.push(`min.insync.replicas equals the replication factor (${r.replicationFactor}): any broker down stops every produce. Set KAFKA_MIN_INSYNC_REPLICAS=${r.replicationFactor - 1} to ride out one.`);
  return out;
}

/** The topic config entries that carry the setting. */
export function replicationConfigEntries(r: ResolvedReplication): Array<{ name: string; value: string }> {
  return [{ name: 'min.insync.replicas', value: String(r.minInsyncReplicas) }];
}
