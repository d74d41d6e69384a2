import { PipelineError } from '../../core/errors';
import type { KafkaCluster } from '../../core/kafka-cluster';
import type { Offsets } from './generations';

/** The end (high watermark) of every partition of the topics. */
export async function endOffsets(cluster: KafkaCluster, topics: readonly string[]): Promise<Offsets> {
  const out: Offsets = {};
  for (const topic of topics) out[topic] = Object.fromEntries((await cluster.offsets(topic)).map((p) => [String(p.partition), p.high]));
  return out;
}

/** Offsets the group committed; a partition without a commit counts as its low watermark. */
export async function committedOffsets(cluster: KafkaCluster, groupId: string, topics: readonly string[]): Promise<Offsets> {
  const out: Offsets = {};
  for (const { topic, partitions } of await cluster.committed(groupId, topics)) {
    const lows = new Map((await cluster.offsets(topic)).map((p) => [p.partition, p.low]));
    out[topic] = Object.fromEntries(partitions.map((p) => [String(p.partition), BigInt(p.offset) < 0n ? (lows.get(p.partition) ?? '0') : p.offset]));
  }
  return out;
}

/** Messages from `from` to `to`, summed over partitions (0 where `from` is at or past `to`). */
export function distance(from: Offsets, to: Offsets): number {
  let n = 0n;
  for (const [topic, parts] of Object.entries(to)) {
    for (const [p, end] of Object.entries(parts)) {
      const d = BigInt(end) - BigInt(from[topic]?.[p] ?? '0');
      if (d > 0n) n += d;
    }
  }
  return Number(n);
}

export function sameOffsets(a: Offsets, b: Offsets): boolean {
  return distance(a, b) === 0 && distance(b, a) === 0;
}

/**
 * A replay from `from` (offset 0 when absent) rebuilds the index only if the topic still holds
 * every event from there: refuse when retention already deleted some.
 */
export async function assertReplayable(cluster: KafkaCluster, topics: readonly string[], from?: Offsets): Promise<void> {
  for (const topic of topics) {
    for (const p of await cluster.offsets(topic)) {
      const start = BigInt(from?.[topic]?.[String(p.partition)] ?? '0');
      if (BigInt(p.low) > start) {
        throw new PipelineError(`topic ${topic} partition ${p.partition} starts at offset ${p.low}, after ${start}: retention deleted events a replay needs, so it would miss rows. Re-snapshot the table into a fresh topic instead (topics made by this pipeline keep everything: retention.ms=-1).`, {
          code: 'REPLAY_INCOMPLETE', retriable: false, context: { topic, partition: p.partition },
        });
      }
    }
  }
}
