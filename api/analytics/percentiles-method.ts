import { badRequest } from '../errors';
import type { Params } from '../http/params';

/**
 * How `percentiles(f)` is computed; both are Elasticsearch's, both approximate, with different
 * errors (docs/api.md, "Analytics"):
 *
 * - `tdigest` (default, `compression` 100): error in *rank*, largest near the median, where one
 *   centroid summarises about 1/compression of the documents and the value is interpolated
 *   inside it. On a skewed column whose values jump between neighbouring ranks the value can be
 *   far off (35 % at p90 on `percentiles-method.int.test.ts`'s column; 66 % was seen on a median).
 *   Raising `compression` shrinks the centroids (error roughly ∝ 1/compression) for memory
 *   (~compression × 20 centroids of 16 bytes per shard and bucket).
 * - `hdr` (HDR histogram, 3 significant digits): error in *value*, at most 0.1 % of the value
 *   whatever the distribution, against the exact nearest-rank percentile; values must be ≥ 0;
 *   memory grows with the log of the value range, not with the document count.
 */
export type PercentilesMethod = { kind: 'tdigest'; compression: number } | { kind: 'hdr' };

export const PERCENTILES_PARAMS = { percentilesMethod: 'string', compression: 'integer' } as const;
export const DEFAULT_COMPRESSION = 100;
const MAX_COMPRESSION = 5_000;
export const HDR_DIGITS = 3;

export function parsePercentilesMethod(p: Params): PercentilesMethod {
  const kind = p.oneOf('percentilesMethod', ['tdigest', 'hdr'] as const, 'tdigest');
  if (kind === 'hdr') {
    if (p.has('compression')) throw badRequest('PARAM_CONFLICT', 'compression applies to percentilesMethod=tdigest; hdr has a fixed precision of 3 significant digits');
    return { kind };
  }
  return { kind, compression: p.int('compression', DEFAULT_COMPRESSION, 20, MAX_COMPRESSION) };
}

/** The Elasticsearch percentiles aggregation body for one metric. */
export function percentilesAgg(field: string | undefined, percents: number[] | undefined, method: PercentilesMethod | undefined): Record<string, unknown> {
  const how = method?.kind === 'hdr' ? { hdr: { number_of_significant_value_digits: HDR_DIGITS } } : method && method.compression !== DEFAULT_COMPRESSION ? { tdigest: { compression: method.compression } } : {};
  return { percentiles: { field, percents, ...how } };
}

/** For the cache key: only when percentiles are asked for, so other keys stay as they were. */
export function methodKey(method: PercentilesMethod): string {
  return method.kind === 'hdr' ? 'hdr' : `tdigest:${method.compression}`;
}
