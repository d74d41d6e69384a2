import type { Kafka } from 'kafkajs';
import type { BatchProducer, TopicBatch } from '../batch-producer';
import { keyPartition } from '../murmur2-partition';
import { BrokerConnection } from './broker-connection';
import { decodeProduceResponse, encodeProduceRequest, type PartitionData } from './produce-protocol';
import { encodeRecordBatch, type WireRecord } from './record-batch';
import { KafkaBrokerUnavailable, produceError } from './wire-errors';

/** Where each partition's leader is: broker addresses by node id, and each topic's leader per partition (-1: none). */
export interface ClusterLayout {
  brokers: Map<number, { host: string; port: number }>;
  leaders: Map<string, number[]>;
}
export type LayoutSource = (topics: string[]) => Promise<ClusterLayout>;

/** Cluster layout through kafkajs's admin client (bootstrap, retries, metadata requests). */
export function kafkajsLayout(kafka: Kafka): LayoutSource {
  return async (topics) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      // No topics asked: kafkajs would read every topic's metadata.
      const meta = topics.length ? await admin.fetchTopicMetadata({ topics }) : { topics: [] };
      const leaders = new Map<string, number[]>();
      for (const t of meta.topics) {
        const byPartition: number[] = [];
        for (const p of t.partitions) byPartition[p.partitionId] = p.leader;
        leaders.set(t.name, byPartition);
      }
      return { brokers: new Map(cluster.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }])), leaders };
    } finally {
      await admin.disconnect();
    }
  };
}

export interface WireProducerOptions {
  clientId: string;
  /** How long the broker may wait for the in-sync replicas before it answers, ms. */
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * The produce path ingest runs at full speed: each send becomes one Produce request per leader
 * broker, each partition's messages one record batch (record-batch.ts), acks=all, and `send`
 * resolves only when every partition of every request was acknowledged without error. Metadata
 * (leaders, broker addresses) comes from kafkajs's admin client and is read again after any
 * failure. Sends are not overlapped by the caller, so a partition's events stay in order even
 * across retries, as with kafkajs's producer at maxInFlightRequests 1. Plaintext listeners only,
 * like the rest of the pipeline's Kafka configuration.
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

  async connect(): Promise<void> {
    this.layout = await this.layoutOf([]);
  }

  async send(batches: TopicBatch[]): Promise<void> {
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

  /** Messages → leader broker → topic → partition → records, in the order given. */
  private group(batches: readonly TopicBatch[], layout: ClusterLayout): Map<number, Map<string, Map<number, WireRecord[]>>> {
    const byBroker = new Map<number, Map<string, Map<number, WireRecord[]>>>();
    for (const { topic, messages } of batches) {
      const leaders = layout.leaders.get(topic);
      if (!leaders || leaders.length === 0) throw new KafkaBrokerUnavailable(`no metadata for topic ${topic}`);
      for (const m of messages) {
        const partition = m.partition ?? keyPartition(m.key, leaders.length);
        const leader = leaders[partition];
        if (leader === undefined) throw new KafkaBrokerUnavailable(`topic ${topic} has no partition ${partition} (it has ${leaders.length})`);
        if (leader < 0) throw new KafkaBrokerUnavailable(`${topic}[${partition}] has no leader right now`);
        let topics = byBroker.get(leader);
        if (!topics) byBroker.set(leader, (topics = new Map()));
        let partitions = topics.get(topic);
        if (!partitions) topics.set(topic, (partitions = new Map()));
        let records = partitions.get(partition);
        if (!records) partitions.set(partition, (records = []));
        records.push({ key: m.key, value: m.value });
      }
    }
    return byBroker;
  }

  private async produce(layout: ClusterLayout, node: number, topics: Map<string, Map<number, WireRecord[]>>): Promise<void> {
    const address = layout.brokers.get(node);
    if (!address) throw new KafkaBrokerUnavailable(`broker ${node} (a partition leader) is not in the cluster metadata`);
    const data = new Map<string, PartitionData[]>();
    const sent = new Set<string>();
    for (const [topic, partitions] of topics) {
      data.set(topic, [...partitions].map(([partition, records]) => ({ partition, records: encodeRecordBatch(records) })));
      for (const partition of partitions.keys()) sent.add(`${topic}\u0000${partition}`);
    }
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
    if (!c) this.connections.set(key, (c = new BrokerConnection(host, port, { connectTimeoutMs: this.connectTimeoutMs, requestTimeoutMs: this.ackTimeoutMs + 10_000 })));
    return c;
  }
}
