import type { Kafka, Message, PartitionerArgs, ProducerConfig } from 'kafkajs';
import { keyPartition } from './kafka-partitioner';
import type { MessageProducer, ProducedMessage } from './kafka-producer';

/**
 * kafkajs's partitioner slot filled with the pipeline's one (a key-less message goes to partition
 * 0). kafkajs asks it for every message, so a message's own partition is its answer.
 */
export const sharedPartitioner = () => ({ partitionMetadata, message }: PartitionerArgs): number => {
  if (message.partition !== undefined && message.partition !== null) return message.partition;
  const key = message.key;
  if (key === null || key === undefined) return 0;
  return keyPartition(typeof key === 'string' ? key : key.toString('utf8'), partitionMetadata.length);
};

/**
 * The producer port through kafkajs's producer: one request in flight (a partition's messages stay
 * in order across retries), no topic created by a produce, acks=all. `retry`: kafkajs's own
 * retries of a send, for callers someone waits on (few and short) or not.
 */
export function kafkajsProducer(kafka: Kafka, opts: Pick<ProducerConfig, 'retry'> = {}): MessageProducer {
  const producer = kafka.producer({ createPartitioner: sharedPartitioner, maxInFlightRequests: 1, allowAutoTopicCreation: false, ...opts });
  return {
    connect: () => producer.connect(),
    async send(messages: readonly ProducedMessage[]): Promise<void> {
      if (!messages.length) return;
      const byTopic = new Map<string, Message[]>();
      for (const m of messages) {
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value, ...(m.partition === undefined ? {} : { partition: m.partition }), ...(m.headers ? { headers: { ...m.headers } } : {}) });
      }
      const acks = await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
      // kafkajs throws on an error answer; a partition missing from the answers is not acknowledged either.
      const acked = new Set(acks.filter((a) => a.errorCode === 0).map((a) => `${a.topicName}[${a.partition}]`));
      const missing = new Set(messages.filter((m) => m.partition !== undefined && !acked.has(`${m.topic}[${m.partition}]`)).map((m) => `${m.topic}[${m.partition}]`));
      if (missing.size) throw new Error(`no acknowledgement for ${[...missing].join(', ')}`);
    },
    close: () => producer.disconnect(),
  };
}
