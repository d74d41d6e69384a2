import { chunkOps } from './chunk-ops';
import type { BulkOp } from './to-bulk-ops';

const op = (id: number, bytes: number): BulkOp => ({ action: 'index', index: 'i', id: String(id), version: '1', doc: {}, origin: { topic: 't', partition: 0, offset: '0' }, lsn: '1', bytes });
const ids = (chunks: BulkOp[][]) => chunks.map((c) => c.map((o) => o.id).join(','));

describe('chunkOps', () => {
  it('cuts at the document count', () => {
    expect(ids(chunkOps([1, 2, 3, 4, 5].map((i) => op(i, 10)), 2))).toEqual(['1,2', '3,4', '5']);
  });
  it('cuts at the byte budget before the count, and sends an oversized op alone', () => {
    const ops = [op(1, 400), op(2, 400), op(3, 400), op(4, 5000), op(5, 10)];
    expect(ids(chunkOps(ops, 100, 1000))).toEqual(['1,2', '3', '4', '5']);
  });
});
