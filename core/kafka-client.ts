import type { KafkaCluster } from './kafka-cluster';
import type { GroupConsumer } from './kafka-group-consumer';
import type { MessageProducer } from './kafka-producer';

/**
 * What a service holds of Kafka: a factory of the three ports (core/kafka-cluster.ts,
 * core/kafka-producer.ts, core/kafka-group-consumer.ts). The services and tools take this, never a
 * client library's object, so the library behind it is chosen in one place (core/kafka.ts
 * createKafka; the kafkajs adapter is core/kafkajs-client.ts). Ingest's change events go through
 * its own wire producer (ingest/sink/wire/), which reads the cluster's layout through `cluster()`.
 */
export interface KafkaClient {
  /** A connection to the cluster's admin side; connects on first use, the caller closes it (withCluster). */
  cluster(): KafkaCluster;
  producer(opts?: ProducerOptions): MessageProducer;
  groupConsumer(opts: GroupConsumerOptions): GroupConsumer;
}

export interface ProducerOptions {
  /** How a failed send is retried before it rejects (default: the client's own, 8 retries up to 10 s apart). */
  retry?: { retries: number; initialMs: number; maxMs: number };
}

export interface GroupConsumerOptions {
  groupId: string;
  /** How long a fetch waits for data before it returns what it has. */
  maxWaitTimeMs: number;
  /** Defaults: the client's (30 s, 3 s, 1 MiB). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
  /** A subscribe to a missing topic creates it with the broker's defaults (default true; the services create their topics first). */
  allowAutoTopicCreation?: boolean;
}
