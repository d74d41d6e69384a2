import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/**
 * What the dead-letter topic holds for a document Elasticsearch refused (or a message that is no
 * change event), with `stage: 'indexer'`: enough for `npm run dead-letters -- replay` to write the
 * document again with its original version once the cause is fixed.
 */
export interface DeadLetterRecord {
  index?: string;
  id?: string;
  lsn?: string;
  commitLsn?: string;
  topic: string;
  partition: number;
  offset: string;
  errorType: string;
  reason: string;
  /** The original message value, as received. */
  payload: string;
}

/** Parks what can never be indexed as is, with its reason, so the rest keeps flowing. */
export class DeadLetterPublisher {
  private readonly producer: Producer;
  constructor(kafka: Kafka, readonly topic: string) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }
  connect(): Promise<void> {
    return this.producer.connect();
  }
  async publish(records: readonly DeadLetterRecord[]): Promise<void> {
    if (!records.length) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.id ?? null, value: JSON.stringify({ stage: 'indexer', ...r }) })),
    });
  }
  close(): Promise<void> {
    return this.producer.disconnect();
  }
}
