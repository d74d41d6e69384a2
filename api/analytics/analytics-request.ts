import type { FilterClause } from '../search/filter';
import type { PercentilesMethod } from './percentiles-method';

/** A validated analytics request: every field was checked against the pipeline config. */
export type MetricFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'percentiles' | 'cardinality';

export interface Metric {
  /** As the caller wrote it and as it appears in the response, e.g. `avg(year)`. */
  name: string;
  fn: MetricFn;
  esField?: string;
  /** The nested relations holding the field, outermost first (FieldPath.nested); none at the root. */
  nested?: readonly string[];
  percents?: number[];
  /** percentiles only: t-digest (default) or HDR histogram (percentiles-method.ts). */
  method?: PercentilesMethod;
}

interface GroupBase {
  /** The response key of this group's value: the field's path. */
  field: string;
  esField: string;
  /**
   * The nested relations holding the field, outermost first; none at the root. Every group of
   * one request has the same (analytics-params.ts): their buckets are of the same objects.
   */
  nested?: readonly string[];
}
export type GroupKey = GroupBase &
  (
    | { kind: 'terms' }
    | { kind: 'histogram'; interval: number }
    | { kind: 'date_histogram'; calendarInterval?: string; fixedInterval?: string }
    | { kind: 'range'; date: boolean; ranges: Array<{ key: string; from?: string | number; to?: string | number }> }
  );

export interface AnalyticsRequest {
  filters: FilterClause[];
  metrics: Metric[];
  groupBy: GroupKey[];
  /** Buckets per group (terms) or per page (composite). */
  groupSize: number;
  /** Page through every group with a composite aggregation (sorted by key, not by count). */
  composite: boolean;
  after?: Record<string, unknown>;
  timeZone?: string;
  /** Histogram bounds from the time range, so empty leading and trailing buckets are returned. */
  bounds?: { min: string | number; max: string | number };
}

export type MetricValue = number | string | null | Record<string, number | null>;
export type GroupValue = string | number | boolean | null;

export interface AnalyticsResult {
  tookMs: number;
  total: number;
  metrics: Record<string, MetricValue>;
  /** Metrics whose value lies beyond ±2^53 and may be rounded (precision.ts); absent when all are exact. */
  exact?: Record<string, false>;
  groups?: Array<{ key: Record<string, GroupValue>; count: number; metrics: Record<string, MetricValue>; exact?: Record<string, false> }>;
  /** Composite paging: pass as `after` for the next page; null on the last page. */
  after?: Record<string, unknown> | null;
}

export interface FieldRange {
  min: number | null;
  max: number | null;
}
