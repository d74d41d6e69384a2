import type { ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { partitionCounts, withCluster, type ClusterSource } from '../../core/kafka-cluster';
import type { EventPublisher } from '../commit-batcher';
import type { MessageProducer } from '../../core/kafka-producer';
import { deadLetterRecord } from './dead-letter-record';
import { planSends, type RejectedEvent } from './kafka-messages';
import { keyPartition } from '../../core/kafka-partitioner';
import type { ChangeTraces } from '../change-traces';

/**
 * Produces change events with acks=all. Key = canonical primary key, so every change of one
 * row lands on one partition, in order; truncates and heartbeats go to every partition (see
 * kafka-messages.ts), so the publisher knows each topic's partition count and size limit: read at
 * connect and again after a failed send (the topic may have been re-created, grown or re-configured).
 * No idempotent producer (kafkajs's is experimental, ours has none): duplicates on retry are harmless because
 * documents are versioned by commit LSN.
 * An event Kafka can never take (above the topic's max.message.bytes) or that breaks the contract
 * is parked in the dead-letter topic with its reason, key and LSNs, without its row, and counted;
 * the rest keeps flowing.
 */
export class KafkaEventPublisher implements EventPublisher {
  private partitions = new Map<string, number>();
  private maxBytes = new Map<string, number>();
  private stale = true;

  constructor(
    /** For topic metadata (partition counts, max.message.bytes); events go through `producer`. */
    private readonly cluster: ClusterSource,
    private readonly producer: MessageProducer,
    private readonly topicPrefix: string,
    private readonly topics: readonly string[],
    private readonly deadLetterTopic: string,
    private readonly onRejected: (r: RejectedEvent) => void = () => undefined,
    /** Sampled changes' traces: their records carry a traceparent header, and each send is a produce span linked to them. */
    private readonly traces?: ChangeTraces,
  ) {}

  async connect(): Promise<void> {
    await this.producer.connect();
    await this.refreshLayout();
  }

  async publish(events: readonly ChangeEvent[]): Promise<void> {
    const traced = this.traces?.on ? this.traces.tracesOf(events) : undefined;
    // One span per batch, linked to the changes it carries (a span has one parent; a batch serves many traces).
    const span = traced?.length ? this.traces!.tracing.start('ingest.produce', { kind: 'producer', links: traced, attributes: { 'pipeline.events': events.length, 'pipeline.traced_events': traced.length } }) : undefined;
    try {
      if (this.stale) await this.refreshLayout();
      const { sends, rejected } = planSends(events, this.topicPrefix, { partitions: (t) => this.partitions.get(t), maxMessageBytes: (t) => this.maxBytes.get(t) }, undefined, span ? this.traces!.headersOf : undefined);
      if (rejected.length) await this.deadLetter(rejected);
      for (const send of sends) await this.producer.send([...send.values()].flat());
      span?.end();
    } catch (err) {
      span?.end(err);
      this.stale = true;
      if (err instanceof PipelineError) throw err;
      throw new PipelineError('Kafka did not acknowledge the batch', { code: 'KAFKA_PRODUCE_FAILED', retriable: true, cause: err });
    }
  }

  private async deadLetter(rejected: readonly RejectedEvent[]): Promise<void> {
    const partitions = this.partitions.get(this.deadLetterTopic);
    if (partitions === undefined) throw new PipelineError(`partition count of the dead-letter topic ${this.deadLetterTopic} is unknown`, { code: 'TOPIC_UNKNOWN', retriable: true, context: { topic: this.deadLetterTopic } });
    // A parked change keeps its trace: the dead letter is where that trace ends.
    await this.producer.send(rejected.map((r) => {
      const m = deadLetterRecord(r);
      const headers = this.traces?.headersOf(r.event);
      return { ...m, topic: this.deadLetterTopic, partition: keyPartition(m.key, partitions), ...(headers ? { headers } : {}) };
    }));
    for (const r of rejected) this.onRejected(r);
  }

  private async refreshLayout(): Promise<void> {
    await withCluster(this.cluster(), async (cluster) => {
      this.partitions = await partitionCounts(cluster, [...this.topics, this.deadLetterTopic]);
      const configs = await cluster.topicConfigs(this.topics, ['max.message.bytes']);
      this.maxBytes = new Map([...configs].map(([topic, c]) => [topic, Number(c.get('max.message.bytes'))] as const).filter(([, n]) => Number.isFinite(n) && n > 0));
      this.stale = false;
    });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
