import { Partitioners, CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { canonicalKey, topicFor, type ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import type { EventPublisher } from '../commit-batcher';

/**
 * Produces change events with acks=all. Key = canonical primary key, so every change of one
 * row lands on one partition, in order. Not kafkajs's idempotent producer (experimental):
 * duplicates on retry are harmless because documents are versioned by commit LSN.
 */
export class KafkaEventPublisher implements EventPublisher {
  private readonly producer: Producer;

  constructor(private readonly kafka: Kafka, private readonly topicPrefix: string) {
    // One request in flight keeps a partition's events in order even when a send is retried.
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async publish(events: readonly ChangeEvent[]): Promise<void> {
    const byTopic = new Map<string, Array<{ key: string; value: string }>>();
    for (const e of events) {
      const topic = topicFor(this.topicPrefix, e.source);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({ key: e.op === 't' ? '' : canonicalKey(e.key), value: JSON.stringify(e) });
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      throw new PipelineError('Kafka did not acknowledge the batch', { code: 'KAFKA_PRODUCE_FAILED', retriable: true, cause: err });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
