/**
 * The producer port: messages in, resolved once Kafka acknowledged every one of them (acks=all).
 * Client-neutral; behind it sit ingest's own wire path (ingest/sink/wire/wire-message-producer.ts)
 * and kafkajs (core/kafkajs-producer.ts). A message without a partition is placed by its key
 * with the pipeline's one partitioner (core/kafka-partitioner.ts).
 */
export interface ProducedMessage {
  topic: string;
  /** Placed by the key when absent; a message without key nor partition goes to partition 0. */
  partition?: number;
  /** Text, sent as UTF-8; null: no key. */
  key: string | null;
  value: string;
  /** Record headers (the W3C traceparent of a sampled change: core/tracing.ts); both paths send them. */
  headers?: Readonly<Record<string, string>>;
  /** The UTF-8 byte lengths of key and value, when the caller measured them already (exact, or absent). */
  keyBytes?: number;
  valueBytes?: number;
}

export interface MessageProducer {
  connect(): Promise<void>;
  /**
   * Resolves when every message is acknowledged by all in-sync replicas. Messages of one
   * partition are appended in the order given; a send is not overlapped by the next one, so that
   * order holds across retries. Rejects when any message was not acknowledged.
   */
  send(messages: readonly ProducedMessage[]): Promise<void>;
  close(): Promise<void>;
}
