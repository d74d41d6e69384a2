import { createHash } from 'node:crypto';
import type { IndexPositions } from './positions-source';

/**
 * One reading of an index's freshness watermark, in the forms the API needs: the LSN and age for
 * `asOf`, per-partition positions for consistency tokens, and a generation for cache keys.
 */
export interface Freshness {
  topic: string;
  /** Searchable position per partition of the index's topic. */
  positions: ReadonlyMap<number, bigint>;
  /** The searchable positions of the partitions of a joined index's other topics (positions-source.ts `related`). */
  relatedPositions?: readonly bigint[];
  /** The watermark: the lowest position, once every partition (of every topic the index reads) has one. */
  lsn: bigint | undefined;
  /** Commit time (ms since epoch) up to which every change is searchable: the oldest among partitions. */
  asOfTime: number | undefined;
  /**
   * The cache generation: changes whenever documents of any partition changed and became
   * searchable (a partition's data mark), not when positions move on heartbeats alone, so cached
   * answers survive a quiet pipeline and never outlive a write. A partition published without a
   * mark (an older indexer) counts its position instead, and an alias swapped to another index
   * (a reindex) makes a new generation too. `none` before anything was published.
   */
  generation: string;
}

export function freshnessOf(read: IndexPositions): Freshness {
  const positions = new Map<number, bigint>();
  const relatedPositions: bigint[] = [];
  const marks: string[] = [];
  let lsn: bigint | undefined;
  let asOfTime: number | undefined;
  // The index's own topic, then a joined index's related topics: one watermark and one generation over all.
  const topics = [{ prefix: '', ...read }, ...(read.related ?? []).map((r) => ({ prefix: `${r.topic}:`, ...r }))];
  let complete = true;
  for (const topic of topics) {
    for (const [p, pos] of topic.positions) {
      if (topic === topics[0]) positions.set(p, pos.lsn);
      else relatedPositions.push(pos.lsn);
      marks.push(`${topic.prefix}${p}:${pos.dataMark ?? `@${pos.lsn}`}`);
      if (lsn === undefined || pos.lsn < lsn) lsn = pos.lsn;
      const t = Date.parse(pos.commitTs ?? pos.updatedAt);
      if (Number.isFinite(t) && (asOfTime === undefined || t < asOfTime)) asOfTime = t;
    }
    complete &&= topic.partitions > 0 && topic.positions.size >= topic.partitions;
  }
  if (marks.length && read.target) marks.push(`index:${read.target.name}`, ...read.target.marks);
  const generation = marks.length ? createHash('sha1').update(marks.sort().join(',')).digest('base64url').slice(0, 16) : 'none';
  return { topic: read.topic, positions, ...(read.related ? { relatedPositions } : {}), lsn: complete ? lsn : undefined, asOfTime: complete ? asOfTime : undefined, generation };
}

/** The `asOf` of a response: the watermark LSN (a decimal string; LSNs pass 2^53) and its age. */
export function asOfOf(f: Freshness, now: number): { lsn: string | null; ageMs: number | null } {
  return { lsn: f.lsn === undefined ? null : f.lsn.toString(), ageMs: f.asOfTime === undefined ? null : Math.max(0, now - f.asOfTime) };
}
