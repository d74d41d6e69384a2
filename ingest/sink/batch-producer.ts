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
