import { canonicalKey, topicFor, type ChangeEvent } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { contractViolation } from './contract-guard';
import { keyPartition } from '../../core/kafka-partitioner';

export interface KafkaMessage {
  topic: string;
  key: string;
  /**
   * The event as JSON text, sized exactly here (Buffer.byteLength). A string, not a Buffer: it is
   * encoded straight into its record batch (wire/record-batch.ts), while a Buffer would be
   * allocated here and then copied there.
   */
  value: string;
  partition: number;
  /** UTF-8 byte lengths of key and value: planSends measures them for the limits, the encoder reuses them. */
  keyBytes?: number;
  valueBytes?: number;
  /** The trace the event belongs to, when sampled (ingest/change-traces.ts). */
  headers?: Readonly<Record<string, string>>;
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
/**
 * A send is one Produce request per leader broker; the broker closes the connection on a request
 * above socket.request.max.bytes (100 MB by default), which would look like an outage and be
 * retried for ever. Many partitions x max.message.bytes could pass it, so a send stops well short.
 */
export const MAX_SEND_BYTES = 32 * 1024 * 1024;

/** The partition kafkajs' default (Java-compatible murmur2) partitioner would choose for the key. */
export function partitionFor(_topic: string, key: string, partitions: number): number {
  return keyPartition(key, partitions);
}

/**
 * Events → the sends that carry them, in order. Row events are keyed by the canonical primary key
 * and placed by the default partitioner (computed here, so every change of one row stays on one
 * partition, in order). Truncates and heartbeats concern every row, so they are copied to every
 * partition with an empty key: each partition's stream orders a truncate against its own rows'
 * changes, and a heartbeat advances every partition's freshness watermark.
 * Sizes: Kafka refuses a record batch above the topic's max.message.bytes, and the producer puts
 * one send's messages for a partition into one batch; so a send is closed before any partition's share
 * would pass the limit, and an event that alone passes it is rejected (dead-letter topic) instead
 * of failing every retry and stopping the pipeline. An event that breaks the contract is rejected
 * the same way (contract-guard.ts): decoding the same WAL again would make it again, so stopping
 * would stop for good, and producing it would hand the indexer something it must refuse.
 */
export function planSends(events: readonly ChangeEvent[], topicPrefix: string, layout: TopicLayout, maxSendBytes = MAX_SEND_BYTES, headersOf?: (e: ChangeEvent) => Readonly<Record<string, string>> | undefined): { sends: Send[]; rejected: RejectedEvent[] } {
  const sends: Send[] = [];
  const rejected: RejectedEvent[] = [];
  const topics = new TopicCache(topicPrefix, layout);
  let send: Send = new Map();
  let sendBytes = 0;
  let generation = 0; // bumped per send: a topic's `used` counts belong to the send of its generation
  for (const e of events) {
    const violation = contractViolation(e, topicPrefix);
    if (violation) {
      rejected.push({ event: e, topic: violation.topic, table: violation.table, errorType: 'event_invalid', reason: violation.reason });
      continue;
    }
    const t = topics.get(e.source.schema, e.source.table);
    let json: string;
    try {
      json = JSON.stringify(e);
    } catch (err) {
      rejected.push({ event: e, topic: t.topic, table: t.table, errorType: 'event_unserializable', reason: `the event cannot be serialized as JSON: ${(err as Error).message}` });
      continue;
    }
    const everyPartition = e.op === 't' || e.op === 'h';
    const key = everyPartition ? '' : canonicalKey(e.key);
    const valueBytes = Buffer.byteLength(json);
    const keyBytes = key.length === 0 ? 0 : Buffer.byteLength(key);
    const headers = headersOf?.(e);
    const bytes = valueBytes + keyBytes + RECORD_OVERHEAD + (headers === undefined ? 0 : headerBytes(headers));
    if (bytes > t.limit) {
      rejected.push({ event: e, topic: t.topic, table: t.table, errorType: 'event_too_large', reason: `the event is ${bytes} bytes, above the ${t.limit + BATCH_OVERHEAD} bytes topic ${t.topic} accepts (max.message.bytes)` });
      continue;
    }
    const partition = everyPartition ? -1 : keyPartition(key, t.partitions);
    if (t.generation !== generation) t.reset(generation);
    const total = partition >= 0 ? bytes : bytes * t.partitions;
    if (!t.fits(partition, bytes) || (send.size > 0 && sendBytes + total > maxSendBytes)) {
      sends.push(send);
      send = new Map();
      sendBytes = 0;
      t.reset(++generation);
    }
    sendBytes += total;
    let list = send.get(t.topic);
    if (!list) send.set(t.topic, (list = []));
    if (partition >= 0) {
      list.push(headers === undefined ? { topic: t.topic, key, value: json, partition, keyBytes, valueBytes } : { topic: t.topic, key, value: json, partition, keyBytes, valueBytes, headers });
      t.used[partition]! += bytes;
    } else {
      for (let p = 0; p < t.partitions; p++) {
        list.push(headers === undefined ? { topic: t.topic, key, value: json, partition: p, keyBytes, valueBytes } : { topic: t.topic, key, value: json, partition: p, keyBytes, valueBytes, headers });
        t.used[p]! += bytes;
      }
    }
  }
  if (send.size) sends.push(send);
  return { sends, rejected };
}

/** Header bytes as encoded, at most: lengths as 5-byte varints. */
function headerBytes(headers: Readonly<Record<string, string>>): number {
  let n = 5;
  for (const [k, v] of Object.entries(headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 10;
  return n;
}

/** Per topic of one planSends call: name, layout, and the bytes each partition holds in the current send. */
class TopicState {
  generation = -1;
  used: number[] = [];
  constructor(readonly topic: string, readonly table: string, readonly partitions: number, readonly limit: number) {}

  reset(generation: number): void {
    this.generation = generation;
    this.used = new Array<number>(this.partitions).fill(0);
  }

  /** Whether `bytes` more fit the partition (-1: every partition) within the broker's batch limit. */
  fits(partition: number, bytes: number): boolean {
    if (partition >= 0) return this.used[partition]! + bytes <= this.limit;
    return this.used.every((u) => u + bytes <= this.limit);
  }
}

/** Topic names and layouts looked up once per table instead of once per event (two string keys, no concatenation). */
class TopicCache {
  private readonly bySchema = new Map<string, Map<string, TopicState>>();
  constructor(private readonly prefix: string, private readonly layout: TopicLayout) {}

  get(schema: string, table: string): TopicState {
    let tables = this.bySchema.get(schema);
    if (!tables) this.bySchema.set(schema, (tables = new Map()));
    let state = tables.get(table);
    if (!state) {
      const topic = topicFor(this.prefix, { schema, table });
      const n = this.layout.partitions(topic);
      if (n === undefined) throw new PipelineError(`partition count of topic ${topic} is unknown, so its events cannot be placed`, { code: 'TOPIC_UNKNOWN', retriable: true, context: { topic } });
      state = new TopicState(topic, `${schema}.${table}`, n, (this.layout.maxMessageBytes(topic) ?? DEFAULT_MAX_MESSAGE_BYTES) - BATCH_OVERHEAD);
      tables.set(table, state);
    }
    return state;
  }
}
