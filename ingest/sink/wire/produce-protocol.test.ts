import { isKafkaUnavailable } from '../../../core/kafka-unavailable';
import { decodeProduceResponse, encodeProduceRequest } from './produce-protocol';
import { produceError } from './wire-errors';

/** Reads the request back field by field, as the broker's Produce v3 parser does. */
function parseRequest(buf: Buffer) {
  let at = 0;
  const i16 = () => ((at += 2), buf.readInt16BE(at - 2));
  const i32 = () => ((at += 4), buf.readInt32BE(at - 4));
  const str = () => {
    const n = i16();
    at += Math.max(0, n);
    return n < 0 ? null : buf.toString('utf8', at - n, at);
  };
  const size = i32();
  const head = { apiKey: i16(), version: i16(), correlationId: i32(), clientId: str(), transactionalId: str(), acks: i16(), timeoutMs: i32() };
  const topics: Array<{ topic: string | null; partitions: Array<{ partition: number; records: string }> }> = [];
  for (let t = i32(); t > 0; t--) {
    const topic = str();
    const partitions = [];
    for (let p = i32(); p > 0; p--) {
      const partition = i32();
      const n = i32();
      partitions.push({ partition, records: buf.toString('utf8', at, (at += n)) });
    }
    topics.push({ topic, partitions });
  }
  return { size, rest: buf.length - at, ...head, topics };
}

describe('Produce v3 request and response', () => {
  it('frames a request with its size, header, acks, timeout and each partition\'s records', () => {
    const topics = new Map([
      ['cdc.public.items', [{ partition: 2, records: Buffer.from('batch-2') }, { partition: 0, records: Buffer.from('batch-0') }]],
      ['cdc.dead-letter', [{ partition: 1, records: Buffer.from('dl') }]],
    ]);
    const parts = encodeProduceRequest(42, 'ingest', -1, 30_000, topics);
    expect(parts.some((p) => p.toString() === 'batch-2')).toBe(true); // record batches are passed through, not copied
    const req = Buffer.concat(parts);
    expect(parseRequest(req)).toEqual({
      size: req.length - 4, rest: 0, apiKey: 0, version: 3, correlationId: 42, clientId: 'ingest', transactionalId: null, acks: -1, timeoutMs: 30_000,
      topics: [
        { topic: 'cdc.public.items', partitions: [{ partition: 2, records: 'batch-2' }, { partition: 0, records: 'batch-0' }] },
        { topic: 'cdc.dead-letter', partitions: [{ partition: 1, records: 'dl' }] },
      ],
    });
  });

  it('reads each partition\'s error code and base offset from the response', () => {
    const w: Buffer[] = [];
    const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); w.push(b); };
    const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); w.push(b); };
    const i64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(n); w.push(b); };
    const str = (s: string) => { i16(Buffer.byteLength(s)); w.push(Buffer.from(s)); };
    i32(1); str('t'); i32(2);
    i32(0); i16(0); i64(2n ** 60n); i64(-1n);
    i32(1); i16(6); i64(-1n); i64(-1n);
    i32(0); // throttle
    expect(decodeProduceResponse(Buffer.concat(w))).toEqual([
      { topic: 't', partition: 0, errorCode: 0, baseOffset: 2n ** 60n },
      { topic: 't', partition: 1, errorCode: 6, baseOffset: -1n },
    ]);
  });

  it('tells "send again later" broker answers from ones that refuse the batch for good', () => {
    for (const code of [3, 5, 6, 7, 19, 20]) expect(isKafkaUnavailable(produceError(code, 't', 0))).toBe(true);
    for (const code of [2, 10, 18, 29, 87, 9999]) expect(isKafkaUnavailable(produceError(code, 't', 0))).toBe(false);
    expect(produceError(10, 't', 1).message).toMatch(/t\[1\]: MESSAGE_TOO_LARGE \(error code 10\)/);
  });
});
