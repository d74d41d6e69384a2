import type { IndexSpec } from '../../config/pipeline';
import type { Freshness } from './freshness';
import { requirementMet, type Requirement } from './read-your-writes';
import type { WatermarkCache } from './watermark-cache';

export interface FreshnessDeps {
  watermarks: WatermarkCache;
  /** Longest read-your-writes wait, ms. */
  consistencyWaitMs: number;
  onConsistencyWait?: (outcome: 'satisfied' | 'stale') => void;
}

/** The watermark an answer is computed at, and whether it missed the caller's own write. */
export interface ReadPoint {
  freshness: Freshness;
  /** True only when the caller asked for a write (minLsn/consistency) the index has not reached in time. */
  stale: boolean;
}

/**
 * Read before querying Elasticsearch: everything up to this watermark was searchable before the
 * query ran, so an answer cached under its generation never misses a change the generation covers.
 */
export async function readPoint(deps: FreshnessDeps, index: IndexSpec, requirement: Requirement | undefined): Promise<ReadPoint> {
  if (!requirement) return { freshness: await deps.watermarks.current(index), stale: false };
  const { freshness, satisfied } = await deps.watermarks.waitFor(index, (f) => requirementMet(requirement, f), deps.consistencyWaitMs);
  deps.onConsistencyWait?.(satisfied ? 'satisfied' : 'stale');
  return { freshness, stale: !satisfied };
}
