import { canonicalKey, topicFor, type ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';

export interface KafkaMessage {
  key: string;
  value: string;
  /** Set only for events that go to every partition; row events are placed by their key. */
  partition?: number;
}

/** Partition count of a topic, as last read from the broker; undefined when unknown. */
export type PartitionCounts = (topic: string) => number | undefined;

/**
 * Events → Kafka messages grouped by topic. Row events are keyed by the canonical primary key,
 * so every change of one row stays on one partition, in order. Truncates and heartbeats concern
 * every row, so they are copied to every partition (explicit partition, empty key): each
 * partition's stream orders a truncate against its own rows' changes, and a heartbeat advances
 * every partition's freshness watermark even when that partition has no data changes.
 */
export function toTopicMessages(events: readonly ChangeEvent[], topicPrefix: string, partitions: PartitionCounts): Map<string, KafkaMessage[]> {
  const byTopic = new Map<string, KafkaMessage[]>();
  for (const e of events) {
    const topic = topicFor(topicPrefix, e.source);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    const value = JSON.stringify(e);
    if (e.op === 't' || e.op === 'h') {
      const n = partitions(topic);
      if (n === undefined) throw new PipelineError(`partition count of topic ${topic} is unknown, so a ${e.op === 't' ? 'truncate' : 'heartbeat'} cannot reach every partition`, { code: 'TOPIC_UNKNOWN', retriable: true, context: { topic } });
      for (let partition = 0; partition < n; partition++) list.push({ key: '', value, partition });
    } else {
      list.push({ key: canonicalKey(e.key), value });
    }
  }
  return byTopic;
}
