import { keyPartition } from '../../../core/kafka-partitioner';
import { partitionCounts, withCluster, type ClusterSource } from '../../../core/kafka-cluster';
import type { MessageProducer, ProducedMessage } from '../../../core/kafka-producer';
import type { BatchProducer, PartitionBatch } from '../batch-producer';
import { encodeRecordBatch, type WireRecord } from './record-batch';
import { KafkaBrokerUnavailable } from './wire-errors';

/**
 * The producer port over ingest's own produce path: each send's messages become one record batch
 * per (topic, partition), in the order given, encoded once from their text (record-batch.ts), and
 * go out through the wire producer (one Produce request per leader broker). Messages without a
 * partition are placed by key with the pipeline's partitioner, on partition counts read through
 * the cluster port (read again after a failed send).
 */
export class WireMessageProducer implements MessageProducer {
  private counts = new Map<string, number>();

  constructor(
    private readonly wire: BatchProducer,
    private readonly cluster?: ClusterSource,
  ) {}

  connect(): Promise<void> {
    return this.wire.connect();
  }

  async send(messages: readonly ProducedMessage[]): Promise<void> {
    if (!messages.length) return;
    try {
      await this.wire.send(encodeSend(messages, await this.partitionsFor(messages)));
    } catch (err) {
      this.counts.clear();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.wire.close();
  }

  private async partitionsFor(messages: readonly ProducedMessage[]): Promise<(topic: string) => number> {
    const unknown = new Set<string>();
    for (const m of messages) if (m.partition === undefined && !this.counts.has(m.topic)) unknown.add(m.topic);
    if (unknown.size) {
      if (!this.cluster) throw new Error(`messages for ${[...unknown].join(', ')} carry no partition, and this producer has no cluster to read partition counts from`);
      for (const [t, n] of await withCluster(this.cluster(), (c) => partitionCounts(c, [...unknown]))) this.counts.set(t, n);
    }
    return (topic) => {
      const n = this.counts.get(topic);
      if (!n) throw new KafkaBrokerUnavailable(`no partition count for topic ${topic}`);
      return n;
    };
  }
}

const unplaced = (topic: string): number => {
  throw new Error(`a message for ${topic} carries no partition and no partition count was given`);
};

/** Messages → one encoded record batch per (topic, partition), each partition's messages in order. */
export function encodeSend(messages: readonly ProducedMessage[], partitions: (topic: string) => number = unplaced): PartitionBatch[] {
  const byTopic = new Map<string, Map<number, WireRecord[]>>();
  let lastTopic: string | undefined;
  let lastPartitions: Map<number, WireRecord[]> | undefined;
  for (const m of messages) {
    // Messages come in runs of one topic: look the topic up once per run.
    if (m.topic !== lastTopic) {
      lastTopic = m.topic;
      lastPartitions = byTopic.get(m.topic);
      if (!lastPartitions) byTopic.set(m.topic, (lastPartitions = new Map()));
    }
    const partition = m.partition ?? (m.key === null ? 0 : keyPartition(m.key, partitions(m.topic)));
    let list = lastPartitions!.get(partition);
    if (!list) lastPartitions!.set(partition, (list = []));
    list.push(m);
  }
  const out: PartitionBatch[] = [];
  for (const [topic, byPartition] of byTopic) for (const [partition, list] of byPartition) out.push({ topic, partition, records: encodeRecordBatch(list) });
  return out;
}
