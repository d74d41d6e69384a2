import { createHash } from 'node:crypto';
import { crc32 } from '@node-rs/crc32';

/**
 * Checksums of documents, by bucket. A bucket is a range of the hash of the document id, so both
 * sides put a document in the same bucket without agreeing on a key order (Postgres collations
 * and Elasticsearch ids sort differently), and in any order they read it. A bucket's checksum is
 * its count and the sum (mod 2^64) of a 64-bit hash of (id, canonical document): order-
 * independent, so each side streams through its data once and keeps 16 bytes per bucket.
 */

/** JSON with object keys sorted at every level: equal documents print equally, whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** A 64-bit hash of one document with its id. */
export function documentHash(id: string, doc: Readonly<Record<string, unknown>>): bigint {
  return createHash('sha1').update(id).update('\u0000').update(canonicalJson(doc)).digest().readBigUInt64BE(0);
}

export function bucketOf(id: string, buckets: number): number {
  return (crc32(id) >>> 0) % buckets;
}

const MASK = (1n << 64n) - 1n;

export class BucketSums {
  readonly counts: Uint32Array;
  readonly sums: BigUint64Array;
  constructor(readonly buckets: number) {
    this.counts = new Uint32Array(buckets);
    this.sums = new BigUint64Array(buckets);
  }

  add(id: string, hash: bigint): void {
    const b = bucketOf(id, this.buckets);
    this.counts[b]!++;
    this.sums[b] = (this.sums[b]! + hash) & MASK;
  }

  /** Buckets whose count or sum differ from `other`'s (same number of buckets). */
  differing(other: BucketSums): Set<number> {
    const out = new Set<number>();
    for (let b = 0; b < this.buckets; b++) if (this.counts[b] !== other.counts[b] || this.sums[b] !== other.sums[b]) out.add(b);
    return out;
  }

  total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }
}

/** Buckets for `rows` rows at about `perBucket` each, at least 1 and at most 2^20 (16 MiB per side). */
export function bucketCount(rows: number, perBucket: number): number {
  return Math.max(1, Math.min(1 << 20, Math.ceil(rows / Math.max(1, perBucket))));
}
