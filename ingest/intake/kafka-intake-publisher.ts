import type { TokenPosition } from '../../core/consistency-token';
import { PipelineError } from '../../core/errors';
import { existing, partitionCounts, withCluster } from '../../core/kafka-cluster';
import type { KafkaClient } from '../../core/kafka-client';
import type { MessageProducer, ProducedMessage } from '../../core/kafka-producer';
import { noTracing, TRACEPARENT_HEADER, type Tracing } from '../../core/tracing';
import type { AcceptedEvent } from './event-check';
import { keyPartition } from '../../core/kafka-partitioner';
import type { IntakePublisher } from './intake-publisher';

/**
 * Produces intake events with acks=all on the same partitions CDC would use: the partition is
 * computed here with the CDC producer's partitioner (core/kafka-partitioner.ts: murmur2 of the
 * canonical key), so the produce acknowledgement, which is per partition, tells which commit LSNs
 * each partition now holds. Truncates go to every partition. One request in flight keeps a
 * partition's events in order across retries. Not the experimental idempotent producer: a
 * duplicate after a retry is harmless because documents are versioned.
 */
export class KafkaIntakePublisher implements IntakePublisher {
  private readonly producer: MessageProducer;
  private partitions = new Map<string, number>();
  private stale = true;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly topics: readonly string[],
    /** One `ingest.intake` trace per send, sampled; its records carry the traceparent header to the indexer (core/tracing.ts). */
    private readonly tracing: Tracing = noTracing,
  ) {
    // Few, short retries: a caller waits on this, and a 503 tells it to come back later.
    this.producer = kafka.producer({ retry: { retries: 3, initialMs: 200, maxMs: 2_000 } });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    if (this.topics.length) await this.refreshPartitions();
  }

  async publish(events: readonly AcceptedEvent[]): Promise<TokenPosition[]> {
    const span = this.tracing.on ? this.tracing.start('ingest.intake', { kind: 'producer', attributes: { 'pipeline.events': events.length } }) : undefined;
    try {
      const positions = await this.send(events, span?.traceparent);
      span?.end();
      return positions;
    } catch (err) {
      span?.end(err);
      throw err;
    }
  }

  private async send(events: readonly AcceptedEvent[], traceparent: string | undefined): Promise<TokenPosition[]> {
    try {
      if (this.stale || events.some((e) => !this.partitions.has(e.topic))) await this.refreshPartitions();
      const { messages, highest } = this.place(events);
      if (traceparent) for (const m of messages) m.headers = { [TRACEPARENT_HEADER]: traceparent };
      // Resolves only once every partition acknowledged: each now holds its highest commit LSN.
      await this.producer.send(messages);
      return [...highest.values()];
    } catch (err) {
      this.stale = true;
      if (err instanceof PipelineError) throw err;
      const type = (err as { type?: unknown }).type;
      if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
        throw new PipelineError('the broker refused a record as too large: its message.max.bytes is below INGEST_HTTP_MAX_EVENT_BYTES', { code: 'KAFKA_RECORD_TOO_LARGE', retriable: false, cause: err });
      }
      throw new PipelineError('Kafka did not acknowledge the events', { code: 'KAFKA_PRODUCE_FAILED', retriable: true, cause: err });
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
  }

  private place(events: readonly AcceptedEvent[]) {
    const messages: ProducedMessage[] = [];
    const highest = new Map<string, TokenPosition>();
    const note = (topic: string, partition: number, lsn: bigint): void => {
      const k = `${partition}:${topic}`;
      const had = highest.get(k);
      if (!had || lsn > had.lsn) highest.set(k, { topic, partition, lsn });
    };
    for (const e of events) {
      const count = this.partitions.get(e.topic);
      if (!count) throw new PipelineError(`Kafka topic ${e.topic} does not exist (yet); ingest creates it at start`, { code: 'TOPIC_UNKNOWN', retriable: true, context: { topic: e.topic } });
      const lsn = BigInt(e.commitLsn);
      if (e.everyPartition) {
        for (let p = 0; p < count; p++) {
          messages.push({ topic: e.topic, key: '', value: e.value, partition: p });
          note(e.topic, p, lsn);
        }
      } else {
        const partition = keyPartition(e.key, count);
        messages.push({ topic: e.topic, key: e.key, value: e.value, partition });
        note(e.topic, partition, lsn);
      }
    }
    return { messages, highest };
  }

  private async refreshPartitions(): Promise<void> {
    await withCluster(this.kafka.cluster(), async (cluster) => {
      this.partitions = await partitionCounts(cluster, await existing(cluster, this.topics));
      this.stale = false;
    });
  }
}
