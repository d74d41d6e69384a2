import { CompressionTypes, Partitioners, type ICustomPartitioner, type Kafka, type Producer } from 'kafkajs';

/** One Kafka produce: messages by topic; a message without a partition is placed by its key. */
export interface TopicBatch {
  topic: string;
  messages: Array<{ key: string; value: string; partition?: number }>;
}

/** The part of a Kafka producer the publisher uses: resolves when the broker acknowledged all (acks=all). */
export interface BatchProducer {
  connect(): Promise<void>;
  send(batches: TopicBatch[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * kafkajs's producer as the publisher needs it. One request in flight keeps a partition's events
 * in order even when a send is retried. Messages carry the partition planSends chose; the default
 * partitioner would still filter the partition list for each message before looking at it.
 */
export function kafkajsProducer(kafka: Kafka): BatchProducer {
  const fallback = Partitioners.DefaultPartitioner();
  const createPartitioner: ICustomPartitioner = () => (args) => args.message.partition ?? fallback(args);
  const producer: Producer = kafka.producer({ createPartitioner, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  return {
    connect: () => producer.connect(),
    send: async (batches) => void (await producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: batches })),
    close: () => producer.disconnect(),
  };
}
