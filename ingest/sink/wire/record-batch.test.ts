import { encodeRecordBatch, type WireRecord } from './record-batch';

// kafkajs's own decoder and CRC, as an independent reading of the bytes (its consumer reads them the same way).
/* eslint-disable @typescript-eslint/no-require-imports */
const Decoder = require('kafkajs/src/protocol/decoder');
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Decoded {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  lastOffsetDelta: number;
  producerId: string;
  records: Array<{ key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: Record<string, unknown> }>;
}
const decode = (buf: Buffer): Promise<Decoded> => decodeRecordBatch(new Decoder(buf));

describe('record batch v2 encoding', () => {
  it('carries every key and value byte for byte, in order, with offsets 0..n-1 and the batch timestamp', async () => {
    const records = [
      { key: '{"id":1}', value: '{"op":"c"}' },
      { key: '', value: '{"op":"h"}' }, // heartbeats and truncates: empty key, not null
      { key: null, value: 'no key' },
      { key: '{"id":"é✓𝄞"}', value: `{"body":"${'ü'.repeat(100)}"}` }, // multi-byte UTF-8: sizes are bytes, not characters
      { key: 'k'.repeat(200), value: 'v'.repeat(20_000) }, // 2- and 3-byte varint lengths
    ];
    const batch = await decode(encodeRecordBatch(records, 1_700_000_000_123));
    expect(batch.records.map((r) => [r.key === null ? null : r.key.toString('utf8'), r.value!.toString('utf8')])).toEqual(records.map((r) => [r.key, r.value]));
    expect(batch.records.map((r) => r.offset)).toEqual(['0', '1', '2', '3', '4']);
    expect(batch.records.every((r) => r.timestamp === '1700000000123' && Object.keys(r.headers).length === 0)).toBe(true);
    expect([batch.firstOffset, batch.firstTimestamp, batch.maxTimestamp, batch.lastOffsetDelta, batch.producerId]).toEqual(['0', '1700000000123', '1700000000123', 4, '-1']);
  });

  it('writes the same bytes with the lengths the caller measured as when it measures them itself', () => {
    const records = [{ key: '{"id":"é✓𝄞"}', value: `{"body":"${'ü'.repeat(100)}"}` }, { key: '', value: '{"op":"h"}' }, { key: null, value: 'v'.repeat(300) }];
    const measured = records.map((r) => ({ ...r, keyBytes: r.key === null ? undefined : Buffer.byteLength(r.key), valueBytes: Buffer.byteLength(r.value) }));
    expect(encodeRecordBatch(measured, 1).equals(encodeRecordBatch(records, 1))).toBe(true);
  });

  it('states its length and a CRC32C over attributes..end, as the broker checks them', () => {
    const buf = encodeRecordBatch([{ key: 'a', value: 'x'.repeat(5000) }, { key: 'b', value: 'y' }]);
    expect(buf.readInt32BE(8)).toBe(buf.length - 12);
    expect(buf.readInt8(16)).toBe(2); // magic
    expect(buf.readUInt32BE(17)).toBe(kafkajsCrc32c(buf.subarray(21)));
    buf.writeUInt8(buf.readUInt8(buf.length - 2) ^ 1, buf.length - 2); // one flipped bit in the last value
    expect(buf.readUInt32BE(17)).not.toBe(kafkajsCrc32c(buf.subarray(21)));
  });

  it('carries record headers as Kafka encodes them (count, then each key and value with its length), beside records without', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const records: WireRecord[] = [
      { key: '{"id":1}', value: '{"op":"c"}', headers: { traceparent } },
      { key: '{"id":2}', value: '{"op":"u"}' },
      { key: null, value: 'x', headers: { a: '', ключ: 'v'.repeat(200) } }, // empty value, multi-byte key, 2-byte varint
      { key: '', value: 'y', headers: {} },
    ];
    const buf = encodeRecordBatch(records, 1);
    expect(buf.readUInt32BE(17)).toBe(kafkajsCrc32c(buf.subarray(21)));
    const batch = await decode(buf);
    const text = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, (v as Buffer).toString('utf8')]));
    expect(batch.records.map((r) => text(r.headers))).toEqual([{ traceparent }, {}, { a: '', ключ: 'v'.repeat(200) }, {}]);
    expect(batch.records.map((r) => r.value!.toString('utf8'))).toEqual(['{"op":"c"}', '{"op":"u"}', 'x', 'y']);
    // Without headers the bytes are those of before headers existed: tracing off changes nothing on the wire.
    expect(encodeRecordBatch([{ key: 'k', value: 'v', headers: {} }], 1).equals(encodeRecordBatch([{ key: 'k', value: 'v' }], 1))).toBe(true);
  });

  it('refuses an empty batch (Kafka has no such thing)', () => {
    expect(() => encodeRecordBatch([])).toThrow(/at least one record/);
  });
});
