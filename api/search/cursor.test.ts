import { CursorCodec, hashRequest } from './cursor';

describe('cursor codec', () => {
  const codec = new CursorCodec('s'.repeat(32));
  const h = hashRequest({ index: 'books', q: 'dune' });
  it('round-trips a point in time and sort values', () => {
    const c = codec.encode({ pitId: 'abc==', searchAfter: [1.5, 'x', null], queryHash: h });
    expect(codec.decode(c, h)).toEqual({ pitId: 'abc==', searchAfter: [1.5, 'x', null], queryHash: h });
  });
  it('refuses cursors signed with another key, altered, or from another query', () => {
    const c = codec.encode({ pitId: 'p', searchAfter: [1], queryHash: h });
    expect(() => new CursorCodec('t'.repeat(32)).decode(c, h)).toThrow(/not one this API issued/);
    expect(() => codec.decode(c.slice(0, -2) + 'AA', h)).toThrow(/not one this API issued/);
    expect(() => codec.decode(c, hashRequest({ index: 'books', q: 'other' }))).toThrow(/different query/);
  });
  it('hashes equal requests equally', () => {
    expect(hashRequest({ a: [1, 2] })).toBe(hashRequest({ a: [1, 2] }));
    expect(hashRequest({ a: [1, 2] })).not.toBe(hashRequest({ a: [2, 1] }));
  });
});
