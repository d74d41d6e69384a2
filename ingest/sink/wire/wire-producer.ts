import { withCluster, type ClusterSource } from '../../../core/kafka-cluster';
import type { KafkaSecurity } from '../../../core/kafka-security';
import type { BatchProducer, PartitionBatch } from '../batch-producer';
import { BrokerConnection } from './broker-connection';
import { decodeProduceResponse, encodeProduceRequest, type PartitionData } from './produce-protocol';
import { KafkaBrokerUnavailable, produceError } from './wire-errors';

/** Where each partition's leader is: broker addresses by node id, and each topic's leader per partition (-1: none). */
export interface ClusterLayout {
  brokers: Map<number, { host: string; port: number }>;
  leaders: Map<string, number[]>;
}
export type LayoutSource = (topics: string[]) => Promise<ClusterLayout>;

/** Cluster layout through the cluster port (core/kafka-cluster.ts: bootstrap, retries, metadata requests). */
export function clusterLayout(source: ClusterSource): LayoutSource {
  return (topics) => withCluster(source(), async (cluster) => {
    const { brokers } = await cluster.describeCluster();
    // No topics asked: a metadata request would read every topic's.
    const meta = topics.length ? await cluster.describeTopics(topics) : [];
    const leaders = new Map<string, number[]>();
    for (const t of meta) {
      const byPartition: number[] = [];
      for (const p of t.partitions) byPartition[p.partition] = p.leader;
      leaders.set(t.name, byPartition);
    }
    return { brokers, leaders };
  });
}

export interface WireProducerOptions {
  clientId: string;
  /** How long the broker may wait for the in-sync replicas before it answers, ms. */
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** TLS and SASL of the broker connections (KAFKA_TLS*, KAFKA_SASL_*), as the kafkajs client of the layout uses; default plaintext. */
  security?: KafkaSecurity;
}

/**
 * The produce path ingest runs at full speed: each send becomes one Produce request per leader
 * broker carrying each partition's record batch (record-batch.ts) as it is, acks=all, and `send`
 * resolves only when every partition of every request was acknowledged without error. Metadata
 * (leaders, broker addresses) comes from the cluster port and is read again after any
 * failure. Sends are not overlapped by the caller, so a partition's events stay in order even
 * across retries, as with kafkajs's producer at maxInFlightRequests 1. TLS and SASL as the rest of
 * the pipeline's Kafka clients (broker-socket.ts, sasl.ts).
 */
export class WireProducer implements BatchProducer {
  private layout: ClusterLayout | undefined;
  private readonly connections = new Map<string, BrokerConnection>();
  private correlationId = 0;
  private readonly ackTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly layoutOf: LayoutSource,
    private readonly opts: WireProducerOptions,
  ) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 30_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  }

  /** Nothing to open ahead: connections and metadata come with the first send (the service has just reached the cluster to ensure its topics). */
  async connect(): Promise<void> {}

  async send(batches: readonly PartitionBatch[]): Promise<void> {
    try {
      const layout = await this.layoutFor(batches.map((b) => b.topic));
      const byBroker = this.group(batches, layout);
      await Promise.all([...byBroker].map(([node, topics]) => this.produce(layout, node, topics)));
    } catch (err) {
      this.layout = undefined; // leaders may have moved: read them again before the next send
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private async layoutFor(topics: string[]): Promise<ClusterLayout> {
    if (this.layout && topics.every((t) => this.layout!.leaders.has(t))) return this.layout;
    const known = this.layout ? [...this.layout.leaders.keys()] : [];
    this.layout = await this.layoutOf([...new Set([...known, ...topics])]);
    return this.layout;
  }

  /** Partition batches → leader broker → topic → partition data, in the order given. */
  private group(batches: readonly PartitionBatch[], layout: ClusterLayout): Map<number, Map<string, PartitionData[]>> {
    const byBroker = new Map<number, Map<string, PartitionData[]>>();
    const seen = new Set<string>();
    for (const { topic, partition, records } of batches) {
      const leaders = layout.leaders.get(topic);
      if (!leaders || leaders.length === 0) throw new KafkaBrokerUnavailable(`no metadata for topic ${topic}`);
      const leader = leaders[partition];
      if (leader === undefined) throw new KafkaBrokerUnavailable(`topic ${topic} has no partition ${partition} (it has ${leaders.length})`);
      if (leader < 0) throw new KafkaBrokerUnavailable(`${topic}[${partition}] has no leader right now`);
      // Two batches for one partition in one request would leave their order to the broker.
      const id = `${topic}\u0000${partition}`;
      if (seen.has(id)) throw new Error(`one send carries two batches for ${topic}[${partition}]; merge them or send them one after the other`);
      seen.add(id);
      let topics = byBroker.get(leader);
      if (!topics) byBroker.set(leader, (topics = new Map()));
      let list = topics.get(topic);
      if (!list) topics.set(topic, (list = []));
      list.push({ partition, records });
    }
    return byBroker;
  }

  private async produce(layout: ClusterLayout, node: number, data: Map<string, PartitionData[]>): Promise<void> {
    const address = layout.brokers.get(node);
    if (!address) throw new KafkaBrokerUnavailable(`broker ${node} (a partition leader) is not in the cluster metadata`);
    const sent = new Set<string>();
    for (const [topic, partitions] of data) for (const p of partitions) sent.add(`${topic}\u0000${p.partition}`);
    const id = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const body = await this.connection(address.host, address.port).request(id, encodeProduceRequest(id, this.opts.clientId, -1, this.ackTimeoutMs, data));
    for (const r of decodeProduceResponse(body)) {
      if (r.errorCode !== 0) throw produceError(r.errorCode, r.topic, r.partition);
      sent.delete(`${r.topic}\u0000${r.partition}`);
    }
    if (sent.size) throw new KafkaBrokerUnavailable(`broker ${node} did not answer for ${[...sent].map((k) => k.replace('\u0000', '[') + ']').join(', ')}`);
  }

  private connection(host: string, port: number): BrokerConnection {
    const key = `${host}:${port}`;
    let c = this.connections.get(key);
    if (!c) this.connections.set(key, (c = new BrokerConnection(host, port, { connectTimeoutMs: this.connectTimeoutMs, requestTimeoutMs: this.ackTimeoutMs + 10_000, security: this.opts.security, clientId: this.opts.clientId })));
    return c;
  }
}
