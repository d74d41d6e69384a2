/**
 * The pipeline's one partitioner: every producer places keys with it (the CDC publisher, the
 * intake, and core/kafkajs-producer.ts for kafkajs), so one key lands on one partition whoever
 * wrote it. It is the partition Kafka's default partitioner (Java's, and kafkajs' DefaultPartitioner) gives a
 * key: toPositive(murmur2(utf8 bytes)) % partitions. Same result as kafkajs', computed in 32-bit
 * integers (Math.imul) instead of its 64-bit Long objects, which allocated several objects per
 * byte quadruple and cost ~5 % of ingest's CPU in a profile. Equality with kafkajs's (Java-compatible) one is a unit test.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
let scratch = Buffer.allocUnsafe(256);

export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = (data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24));
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

/** The partition of a string key among `partitions`, without allocating for keys up to a few hundred bytes. */
export function keyPartition(key: string, partitions: number): number {
  if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(key.length * 3);
  const length = scratch.write(key, 0, 'utf8');
  return (murmur2(scratch, length) & 0x7fffffff) % partitions;
}
