import { BucketSums, bucketCount, bucketOf, canonicalJson, documentHash } from './checksum';

describe('reconciliation checksums', () => {
  it('prints equal documents equally whatever their key order, and tells values apart', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(documentHash('1', { a: 1, b: 'x' })).toBe(documentHash('1', { b: 'x', a: 1 }));
    expect(documentHash('1', { a: 1 })).not.toBe(documentHash('1', { a: '1' }));
    expect(documentHash('1', { a: 1 })).not.toBe(documentHash('2', { a: 1 }));
    expect(documentHash('1', { a: 1 })).not.toBe(documentHash('1', { a: 1, b: null }));
  });

  it('finds exactly the buckets of a missing, an extra and a changed document, in any reading order', () => {
    const buckets = bucketCount(1000, 10);
    expect(buckets).toBe(100);
    const rows = new BucketSums(buckets);
    const docs = new BucketSums(buckets);
    const ids = Array.from({ length: 1000 }, (_, i) => String(i));
    for (const id of ids) rows.add(id, documentHash(id, { v: id }));
    for (const id of [...ids].reverse()) {
      if (id === '17') continue; // missing
      docs.add(id, documentHash(id, { v: id === '500' ? 'edited' : id }));
    }
    docs.add('extra', documentHash('extra', { v: 'x' }));
    expect(rows.differing(docs)).toEqual(new Set([bucketOf('17', buckets), bucketOf('500', buckets), bucketOf('extra', buckets)]));
    expect(rows.total()).toBe(1000);
    expect(docs.total()).toBe(1000);
  });

  it('sizes buckets from the row count, within bounds', () => {
    expect(bucketCount(0, 1000)).toBe(1);
    expect(bucketCount(10_000_000_000, 1)).toBe(1 << 20);
  });
});
