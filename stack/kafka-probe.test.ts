import { decodeMetadataResponse, encodeMetadataRequest } from './kafka-probe';

describe('encodeMetadataRequest', () => {
  it('frames a Metadata v1 request with an empty topic list', () => {
    const buf = encodeMetadataRequest(7, 'ab');
    expect(buf.readInt32BE(0)).toBe(buf.length - 4);
    expect(buf.readInt16BE(4)).toBe(3); // Metadata
    expect(buf.readInt16BE(6)).toBe(1); // v1
    expect(buf.readInt32BE(8)).toBe(7);
    expect(buf.readInt16BE(12)).toBe(2);
    expect(buf.toString('utf8', 14, 16)).toBe('ab');
    expect(buf.readInt32BE(16)).toBe(0);
  });
});

function metadataResponse(correlationId: number, brokers: { id: number; host: string; port: number; rack?: string }[], controllerId: number): Buffer {
  const parts: Buffer[] = [];
  const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
  const str = (s: string | null): Buffer => {
    if (s === null) { const b = Buffer.alloc(2); b.writeInt16BE(-1); return b; }
    const b = Buffer.alloc(2); b.writeInt16BE(Buffer.byteLength(s)); return Buffer.concat([b, Buffer.from(s)]);
  };
  parts.push(i32(correlationId), i32(brokers.length));
  for (const b of brokers) parts.push(i32(b.id), str(b.host), i32(b.port), str(b.rack ?? null));
  parts.push(i32(controllerId), i32(0));
  const body = Buffer.concat(parts);
  return Buffer.concat([i32(body.length), body]);
}

describe('decodeMetadataResponse', () => {
  it('reads brokers (with and without rack) and the controller id', () => {
    const buf = metadataResponse(42, [{ id: 1, host: '127.0.0.1', port: 9092 }, { id: 2, host: 'h', port: 1, rack: 'r1' }], 1);
    expect(decodeMetadataResponse(buf)).toEqual({
      correlationId: 42,
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9092 }, { nodeId: 2, host: 'h', port: 1 }],
      controllerId: 1,
    });
  });

  it('waits for the whole frame', () => {
    const buf = metadataResponse(1, [{ id: 1, host: 'x', port: 2 }], 1);
    expect(decodeMetadataResponse(buf.subarray(0, buf.length - 3))).toBeUndefined();
    expect(decodeMetadataResponse(Buffer.alloc(2))).toBeUndefined();
  });
});
