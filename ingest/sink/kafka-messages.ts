import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { canonicalKey, topicFor, type ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { contractViolation } from './contract-guard';

export interface KafkaMessage {
  key: string;
  /** UTF-8 JSON of the event: encoded once here, sized exactly, and taken by kafkajs as is. */
  value: Buffer;
  partition: number;
}

/** What the publisher knows of each topic, as last read from the broker; undefined when unknown. */
export interface TopicLayout {
  partitions(topic: string): number | undefined;
  /** The topic's max.message.bytes: the largest record batch the broker accepts. */
  maxMessageBytes(topic: string): number | undefined;
}

/** An event Kafka cannot carry; it goes to the dead-letter topic with this reason instead. */
export interface RejectedEvent {
  event: ChangeEvent;
  /** The event's topic; '' when an invalid event names no table. */
  topic: string;
  /** `schema.table`, or `unknown` for an invalid event without a source. */
  table: string;
  errorType: 'event_too_large' | 'event_unserializable' | 'event_invalid';
  reason: string;
}

/** One sendBatch: messages by topic, every (topic, partition) batch within the broker's limit. */
export type Send = Map<string, KafkaMessage[]>;

/** Broker default of message.max.bytes, used until the topic's own value is known. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
// A v2 record batch: 61 bytes of header; each record adds up to ~30 bytes of varints and attributes.
const BATCH_OVERHEAD = 128;
const RECORD_OVERHEAD = 40;

const partitioner = Partitioners.DefaultPartitioner();
const fakeMetadata = new Map<number, PartitionMetadata[]>();
function metadataOf(n: number): PartitionMetadata[] {
  let m = fakeMetadata.get(n);
  if (!m) fakeMetadata.set(n, (m = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))));
  return m;
}

/** The partition kafkajs' default (Java-compatible murmur2) partitioner would choose for the key. */
export function partitionFor(topic: string, key: string, partitions: number): number {
  return partitioner({ topic, partitionMetadata: metadataOf(partitions), message: { key, value: null } });
}

/**
 * Events → the sends that carry them, in order. Row events are keyed by the canonical primary key
 * and placed by the default partitioner (computed here, so every change of one row stays on one
 * partition, in order). Truncates and heartbeats concern every row, so they are copied to every
 * partition with an empty key: each partition's stream orders a truncate against its own rows'
 * changes, and a heartbeat advances every partition's freshness watermark.
 * Sizes: Kafka refuses a record batch above the topic's max.message.bytes, and kafkajs puts one
 * send's messages for a partition into one batch; so a send is closed before any partition's share
 * would pass the limit, and an event that alone passes it is rejected (dead-letter topic) instead
 * of failing every retry and stopping the pipeline. An event that breaks the contract is rejected
 * the same way (contract-guard.ts): decoding the same WAL again would make it again, so stopping
 * would stop for good, and producing it would hand the indexer something it must refuse.
 */
export function planSends(events: readonly ChangeEvent[], topicPrefix: string, layout: TopicLayout): { sends: Send[]; rejected: RejectedEvent[] } {
  const sends: Send[] = [];
  const rejected: RejectedEvent[] = [];
  let send: Send = new Map();
  let used = new Map<string, number>();
  for (const e of events) {
    const violation = contractViolation(e, topicPrefix);
    if (violation) {
      rejected.push({ event: e, topic: violation.topic, table: violation.table, errorType: 'event_invalid', reason: violation.reason });
      continue;
    }
    const topic = topicFor(topicPrefix, e.source);
    const table = `${e.source.schema}.${e.source.table}`;
    const n = layout.partitions(topic);
    if (n === undefined) throw new PipelineError(`partition count of topic ${topic} is unknown, so its events cannot be placed`, { code: 'TOPIC_UNKNOWN', retriable: true, context: { topic } });
    const limit = (layout.maxMessageBytes(topic) ?? DEFAULT_MAX_MESSAGE_BYTES) - BATCH_OVERHEAD;
    let value: Buffer;
    try {
      value = Buffer.from(JSON.stringify(e));
    } catch (err) {
      rejected.push({ event: e, topic, table, errorType: 'event_unserializable', reason: `the event cannot be serialized as JSON: ${(err as Error).message}` });
      continue;
    }
    const everyPartition = e.op === 't' || e.op === 'h';
    const key = everyPartition ? '' : canonicalKey(e.key);
    const bytes = value.length + Buffer.byteLength(key) + RECORD_OVERHEAD;
    if (bytes > limit) {
      rejected.push({ event: e, topic, table, errorType: 'event_too_large', reason: `the event is ${bytes} bytes, above the ${limit + BATCH_OVERHEAD} bytes topic ${topic} accepts (max.message.bytes)` });
      continue;
    }
    const targets = everyPartition ? Array.from({ length: n }, (_, p) => p) : [partitionFor(topic, key, n)];
    if (targets.some((p) => (used.get(`${topic}\u0000${p}`) ?? 0) + bytes > limit)) {
      sends.push(send);
      send = new Map();
      used = new Map();
    }
    let list = send.get(topic);
    if (!list) send.set(topic, (list = []));
    for (const partition of targets) {
      list.push({ key, value, partition });
      const slot = `${topic}\u0000${partition}`;
      used.set(slot, (used.get(slot) ?? 0) + bytes);
    }
  }
  if (send.size) sends.push(send);
  return { sends, rejected };
}
