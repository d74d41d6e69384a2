import { randomBytes } from 'node:crypto';
import type { KafkaClient } from '../../core/kafka-client';
import { withCluster, type KafkaCluster } from '../../core/kafka-cluster';

export interface TopicRange { partition: number; low: bigint; high: bigint }

/** Each partition's first and next offset; undefined when the topic does not exist (nothing was ever parked). */
export async function topicRange(cluster: KafkaCluster, topic: string): Promise<TopicRange[] | undefined> {
  const topics = await cluster.topicNames();
  if (!topics.includes(topic)) return undefined;
  return (await cluster.offsets(topic)).map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));
}

export interface RawMessage { partition: number; offset: string; timestamp: string; key: string | null; value: string }

/**
 * Reads messages of `topic` from `from` (per partition, default the first offset) up to the end
 * as it was when the read began, with a throwaway consumer group that is deleted afterwards.
 */
export async function readRange(kafka: KafkaClient, topic: string, ranges: readonly TopicRange[], timeoutMs: number, from?: (r: TopicRange) => bigint): Promise<RawMessage[]> {
  const wanted = ranges.map((r) => ({ ...r, start: from ? (from(r) > r.low ? from(r) : r.low) : r.low })).filter((r) => r.start < r.high);
  if (!wanted.length) return [];
  const groupId = `search-pipeline-tool-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.groupConsumer({ groupId, maxWaitTimeMs: 100, allowAutoTopicCreation: false });
  const out: RawMessage[] = [];
  const left = new Map(wanted.map((r) => [r.partition, r.high]));
  const starts = new Map(wanted.map((r) => [r.partition, r.start]));
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  try {
    await consumer.connect();
    await consumer.subscribe([topic]);
    await consumer.run({
      partitionsConcurrently: 1,
      eachBatch: async (batch) => {
        const end = left.get(batch.partition);
        for (const message of batch.messages) {
          // The seek below skips what comes before `start`; should it land late, this still does.
          if (end === undefined || BigInt(message.offset) >= end || BigInt(message.offset) < starts.get(batch.partition)!) continue;
          out.push({ partition: batch.partition, offset: message.offset, timestamp: message.timestamp, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '' });
          if (BigInt(message.offset) + 1n >= end) left.delete(batch.partition);
        }
        batch.resolveOffset(batch.lastOffset());
        if (!left.size) finish();
      },
    });
    for (const r of wanted) consumer.seek(topic, r.partition, r.start.toString());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`reading ${topic} took over ${timeoutMs} ms (${out.length} messages read)`)), timeoutMs)));
    try {
      await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await withCluster(kafka.cluster(), (cluster) => cluster.deleteGroups([groupId])).catch(() => undefined);
  }
  return out.sort((a, b) => Number(BigInt(a.timestamp) - BigInt(b.timestamp)) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
