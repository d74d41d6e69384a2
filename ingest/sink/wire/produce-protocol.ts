/**
 * Produce request v3 and its response (https://kafka.apache.org/protocol#The_Messages_Produce):
 * the first version carrying record batches; every broker since 0.11 takes it, 4.x included.
 */
export const PRODUCE_API_KEY = 0;
export const PRODUCE_VERSION = 3;

export interface PartitionData {
  partition: number;
  /** An encoded record batch (record-batch.ts). */
  records: Uint8Array;
}

/**
 * The request as a list of buffers, record batches not copied: the connection writes them in one
 * writev. `acks` -1 = all in-sync replicas; `timeoutMs` is how long the broker waits for them.
 */
export function encodeProduceRequest(correlationId: number, clientId: string, acks: number, timeoutMs: number, topics: ReadonlyMap<string, readonly PartitionData[]>): Uint8Array[] {
  const head = new Writer();
  head.int32(0); // size, filled in below
  head.int16(PRODUCE_API_KEY).int16(PRODUCE_VERSION).int32(correlationId).string(clientId);
  head.int16(-1); // transactional id: null
  head.int16(acks).int32(timeoutMs).int32(topics.size);
  const parts: Uint8Array[] = [];
  let size = 0;
  let w = head;
  for (const [topic, partitions] of topics) {
    w.string(topic).int32(partitions.length);
    for (const p of partitions) {
      w.int32(p.partition).int32(p.records.length);
      const b = w.done();
      parts.push(b, p.records);
      size += b.length + p.records.length;
      w = new Writer();
    }
  }
  const tail = w.done();
  if (tail.length) {
    parts.push(tail);
    size += tail.length;
  }
  (parts[0] as Buffer).writeInt32BE(size - 4, 0); // the head writer's buffer
  return parts;
}

export interface PartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  baseOffset: bigint;
}

/** A produce response body (after the correlation id): each partition's outcome. */
export function decodeProduceResponse(body: Buffer): PartitionResult[] {
  const r = new Reader(body);
  const results: PartitionResult[] = [];
  for (let t = r.int32(); t > 0; t--) {
    const topic = r.string();
    for (let p = r.int32(); p > 0; p--) {
      const partition = r.int32();
      const errorCode = r.int16();
      const baseOffset = r.int64();
      r.int64(); // log append time
      results.push({ topic, partition, errorCode, baseOffset });
    }
  }
  r.int32(); // throttle time
  return results;
}

/** Small growable big-endian writer for request headers. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private at = 0;
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  int16(n: number): this {
    this.room(2);
    this.at = this.buf.writeInt16BE(n, this.at);
    return this;
  }
  int32(n: number): this {
    this.room(4);
    this.at = this.buf.writeInt32BE(n, this.at);
    return this;
  }
  string(s: string): this {
    const n = Buffer.byteLength(s);
    if (n > 0x7fff) throw new Error(`a Kafka string is at most 32767 bytes, got ${n}`);
    this.room(2 + n);
    this.at = this.buf.writeInt16BE(n, this.at);
    this.at += this.buf.write(s, this.at, n, 'utf8');
    return this;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): string {
    const n = this.int16();
    if (n < 0) return '';
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}
