import type { Metric, MetricValue } from './analytics-request';

/**
 * Elasticsearch computes sum, avg, min and max in doubles and answers them as JSON numbers, so a
 * result beyond ±2^53 may have lost its last digits: a sum of longs, or the max of a long column
 * holding 2^53 + 1, comes back rounded. The API cannot restore them; it says so instead of
 * passing the number off as exact: such metrics are listed in `exact` with `false`.
 *
 * Below 2^53 a sum of integers is exact when every partial sum stayed below it too, which holds
 * unless values of opposite signs beyond 2^53 cancel out; that case is not detected.
 */
const DOUBLE_COMPUTED = new Set(['sum', 'avg', 'min', 'max']);

export function inexactMetrics(metrics: readonly Metric[], values: Record<string, MetricValue>): Record<string, false> | undefined {
  const flagged = metrics.filter((m) => {
    const v = values[m.name];
    return DOUBLE_COMPUTED.has(m.fn) && typeof v === 'number' && Math.abs(v) > Number.MAX_SAFE_INTEGER;
  });
  return flagged.length ? Object.fromEntries(flagged.map((m) => [m.name, false])) : undefined;
}

/** `metrics` with an `exact` map beside it when some value may be rounded. */
export function withPrecision<T extends { metrics: Record<string, MetricValue> }>(metrics: readonly Metric[], row: T): T & { exact?: Record<string, false> } {
  const exact = inexactMetrics(metrics, row.metrics);
  return exact ? { ...row, exact } : row;
}
