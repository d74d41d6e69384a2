import type { MessageProducer } from '../core/kafka-producer';

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
  constructor(private readonly producer: MessageProducer, readonly topic: string) {}
  connect(): Promise<void> {
    return this.producer.connect();
  }
  async publish(records: readonly DeadLetterRecord[]): Promise<void> {
    if (!records.length) return;
    await this.producer.send(records.map((r) => ({ topic: this.topic, key: r.id ?? null, value: JSON.stringify({ stage: 'indexer', ...r }) })));
  }
  close(): Promise<void> {
    return this.producer.close();
  }
}
