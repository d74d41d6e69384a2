import { Partitioners, CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import type { EventPublisher } from '../commit-batcher';
import { toTopicMessages } from './kafka-messages';

/**
 * Produces change events with acks=all. Key = canonical primary key, so every change of one
 * row lands on one partition, in order; truncates and heartbeats go to every partition (see
 * kafka-messages.ts), so the publisher knows each topic's partition count: read at connect and
 * again after a failed send (the topic may have been re-created or grown).
 * Not kafkajs's idempotent producer (experimental): duplicates on retry are harmless because
 * documents are versioned by commit LSN.
 */
export class KafkaEventPublisher implements EventPublisher {
  private readonly producer: Producer;
  private partitions = new Map<string, number>();
  private stale = true;

  constructor(private readonly kafka: Kafka, private readonly topicPrefix: string, private readonly topics: readonly string[]) {
    // One request in flight keeps a partition's events in order even when a send is retried.
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    await this.refreshPartitions();
  }

  async publish(events: readonly ChangeEvent[]): Promise<void> {
    try {
      if (this.stale) await this.refreshPartitions();
      const byTopic = toTopicMessages(events, this.topicPrefix, (t) => this.partitions.get(t));
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      this.stale = true;
      if (err instanceof PipelineError) throw err;
      throw new PipelineError('Kafka did not acknowledge the batch', { code: 'KAFKA_PRODUCE_FAILED', retriable: true, cause: err });
    }
  }

  private async refreshPartitions(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...this.topics] });
      this.partitions = new Map(topics.map((t) => [t.name, t.partitions.length]));
      this.stale = false;
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
