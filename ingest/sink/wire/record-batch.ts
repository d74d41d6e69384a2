import { crc32c } from '@node-rs/crc32';

/** A record as ingest produces it: key, value and headers are text, sent as UTF-8. */
export interface WireRecord {
  key: string | null;
  value: string;
  /**
   * The UTF-8 byte lengths of key and value, when the caller measured them already (planSends does,
   * for the size limits): measuring a 1 KB event again was ~3 % of ingest's CPU per row. They must
   * be exact: a short one would cut the text and the batch would still add up.
   */
  keyBytes?: number;
  valueBytes?: number;
  /** Text headers, as the producer port carries them (core/kafka-producer.ts); absent for almost every record (tracing off or the change not sampled): then one byte, a count of 0. */
  headers?: Readonly<Record<string, string>>;
}

// Record batch v2 (magic 2), https://kafka.apache.org/documentation/#recordbatch. Offsets of the
// header fields that are filled in after the records are written.
const BATCH_LENGTH_AT = 8;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21; // the CRC covers everything from here to the end
const HEADER_BYTES = 61;

/**
 * Encodes records as one uncompressed record batch, written once into one buffer: each string is
 * encoded straight into its place, and the CRC32C comes from a native, hardware-accelerated
 * implementation. kafkajs builds the same bytes through several intermediate buffers and a
 * byte-at-a-time JavaScript CRC, which was most of ingest's CPU per row (bench/ingest.bench.ts).
 * Timestamps: the batch's creation time for every record (what kafkajs did for messages without one).
 */
export function encodeRecordBatch(records: readonly WireRecord[], timestamp = Date.now()): Buffer {
  if (records.length === 0) throw new Error('a record batch needs at least one record');
  const keyBytes = new Array<number>(records.length);
  const valueBytes = new Array<number>(records.length);
  const bodyBytes = new Array<number>(records.length);
  let size = HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const k = r.key === null ? -1 : (r.keyBytes ?? Buffer.byteLength(r.key));
    const v = r.valueBytes ?? Buffer.byteLength(r.value);
    keyBytes[i] = k;
    valueBytes[i] = v;
    // attributes, timestamp delta (0), offset delta, key, value, headers
    const body = 1 + 1 + varintSize(i) + varintSize(k) + Math.max(0, k) + varintSize(v) + v + (r.headers === undefined ? 1 : headersSize(r.headers));
    bodyBytes[i] = body;
    size += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(0n, 0); // base offset: the broker assigns offsets
  buf.writeInt32BE(size - 12, BATCH_LENGTH_AT);
  buf.writeInt32BE(-1, 12); // partition leader epoch: unknown to a producer
  buf.writeInt8(2, 16); // magic
  buf.writeInt16BE(0, ATTRIBUTES_AT); // no compression, create time, not transactional
  buf.writeInt32BE(records.length - 1, 23); // last offset delta
  buf.writeBigInt64BE(BigInt(timestamp), 27); // first timestamp
  buf.writeBigInt64BE(BigInt(timestamp), 35); // max timestamp
  buf.writeBigInt64BE(-1n, 43); // producer id: not idempotent
  buf.writeInt16BE(-1, 51); // producer epoch
  buf.writeInt32BE(-1, 53); // base sequence
  buf.writeInt32BE(records.length, 57);
  let at = HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    at = writeVarint(buf, at, bodyBytes[i]!);
    buf[at++] = 0; // attributes
    buf[at++] = 0; // timestamp delta 0, zigzag
    at = writeVarint(buf, at, i);
    const k = keyBytes[i]!;
    at = writeVarint(buf, at, k);
    if (k > 0) at += buf.write(r.key!, at, k, 'utf8');
    const v = valueBytes[i]!;
    at = writeVarint(buf, at, v);
    if (v > 0) at += buf.write(r.value, at, v, 'utf8');
    if (r.headers === undefined) buf[at++] = 0; // no headers
    else at = writeHeaders(buf, at, r.headers);
  }
  if (at !== size) throw new Error(`record batch encoding wrote ${at} bytes of ${size}`);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_AT)) >>> 0, CRC_AT);
  return buf;
}

// Headers: a varint count, then per header varint key length, key bytes, varint value length, value bytes.
function headersSize(headers: Readonly<Record<string, string>>): number {
  const keys = Object.keys(headers);
  let size = varintSize(keys.length);
  for (const key of keys) {
    const k = Buffer.byteLength(key);
    const v = Buffer.byteLength(headers[key]!);
    size += varintSize(k) + k + varintSize(v) + v;
  }
  return size;
}

function writeHeaders(buf: Buffer, at: number, headers: Readonly<Record<string, string>>): number {
  const keys = Object.keys(headers);
  at = writeVarint(buf, at, keys.length);
  for (const key of keys) {
    const value = headers[key]!;
    const k = Buffer.byteLength(key);
    at = writeVarint(buf, at, k);
    at += buf.write(key, at, k, 'utf8');
    const v = Buffer.byteLength(value);
    at = writeVarint(buf, at, v);
    at += buf.write(value, at, v, 'utf8');
  }
  return at;
}

/** Bytes of a signed 32-bit value as a zigzag varint. */
function varintSize(n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  let bytes = 1;
  while (z >= 0x80) {
    z >>>= 7;
    bytes++;
  }
  return bytes;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  while (z >= 0x80) {
    buf[at++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[at++] = z;
  return at;
}
