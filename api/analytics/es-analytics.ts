import { esFilters } from '../search/es-filters';
import { percentilesAgg } from './percentiles-method';
import { withPrecision } from './precision';
import type { AnalyticsRequest, AnalyticsResult, GroupKey, GroupValue, Metric, MetricValue } from './analytics-request';

/** Analytics request → Elasticsearch aggregations (size 0), and the response back to plain rows. */
export function buildAnalyticsBody(req: AnalyticsRequest): Record<string, unknown> {
  const { filter, must_not } = esFilters(req.filters);
  const metricAggs = Object.fromEntries(req.metrics.flatMap((m, i) => (m.fn === 'count' ? [] : [[`m${i}`, metricAgg(m)]])));
  const body: Record<string, unknown> = {
    size: 0,
    track_total_hits: true,
    query: filter.length || must_not.length ? { bool: { filter, must_not } } : { match_all: {} },
    aggs: { ...metricAggs },
  };
  if (!req.groupBy.length) return body;
  const sub = Object.keys(metricAggs).length ? { aggs: metricAggs } : {};
  const group = req.composite
    ? { composite: { size: req.groupSize, sources: req.groupBy.map((g) => ({ [g.field]: source(g, req) })), ...(req.after ? { after: req.after } : {}) } }
    : single(req.groupBy[0] as GroupKey, req);
  (body.aggs as Record<string, unknown>).g = { ...group, ...sub };
  return body;
}

function metricAgg(m: Metric): Record<string, unknown> {
  if (m.fn === 'percentiles') return percentilesAgg(m.esField, m.percents, m.method);
  if (m.fn === 'cardinality') return { cardinality: { field: m.esField, precision_threshold: 3000 } };
  return { [m.fn]: { field: m.esField } };
}

const DATE_FORMAT = 'strict_date_optional_time';

/** A composite source: terms keep documents without a value as a null key. */
function source(g: GroupKey, req: AnalyticsRequest): Record<string, unknown> {
  switch (g.kind) {
    case 'histogram':
      return { histogram: { field: g.esField, interval: g.interval } };
    case 'date_histogram':
      return { date_histogram: { field: g.esField, ...interval(g), ...(req.timeZone ? { time_zone: req.timeZone } : {}), format: DATE_FORMAT } };
    default:
      return { terms: { field: g.esField, missing_bucket: true } };
  }
}

function single(g: GroupKey, req: AnalyticsRequest): Record<string, unknown> {
  switch (g.kind) {
    case 'terms':
      return { terms: { field: g.esField, size: req.groupSize } };
    case 'histogram':
      return { histogram: { field: g.esField, interval: g.interval, min_doc_count: 0 } };
    case 'date_histogram':
      return {
        date_histogram: {
          field: g.esField,
          ...interval(g),
          ...(req.timeZone ? { time_zone: req.timeZone } : {}),
          format: DATE_FORMAT,
          min_doc_count: 0,
          ...(req.bounds ? { extended_bounds: req.bounds } : {}),
        },
      };
    case 'range':
      return { [g.date ? 'date_range' : 'range']: { field: g.esField, ranges: g.ranges, ...(g.date && req.timeZone ? { time_zone: req.timeZone } : {}) } };
  }
}

function interval(g: GroupKey & { kind: 'date_histogram' }): Record<string, string> {
  return g.calendarInterval ? { calendar_interval: g.calendarInterval } : { fixed_interval: g.fixedInterval as string };
}

interface Bucket {
  key: unknown;
  key_as_string?: string;
  doc_count: number;
  [agg: string]: unknown;
}

export function parseAnalyticsResponse(req: AnalyticsRequest, res: { took: number; hits: { total?: unknown }; aggregations?: Record<string, unknown> }): AnalyticsResult {
  const total = typeof res.hits.total === 'number' ? res.hits.total : ((res.hits.total as { value?: number } | undefined)?.value ?? 0);
  const aggs = res.aggregations ?? {};
  const result: AnalyticsResult = withPrecision(req.metrics, { tookMs: res.took, total, metrics: metricValues(req, aggs, total) });
  const g = aggs.g as { buckets?: Bucket[]; after_key?: Record<string, unknown> } | undefined;
  if (!g) return result;
  const buckets = g.buckets ?? [];
  result.groups = buckets.map((b) => withPrecision(req.metrics, { key: bucketKey(req, b), count: b.doc_count, metrics: metricValues(req, b, b.doc_count) }));
  // ES returns an after_key even on the last page; a short page means there is nothing after it.
  if (req.composite) result.after = buckets.length < req.groupSize ? null : (g.after_key ?? null);
  return result;
}

function bucketKey(req: AnalyticsRequest, b: Bucket): Record<string, GroupValue> {
  if (req.composite) return b.key as Record<string, GroupValue>;
  const g = req.groupBy[0] as GroupKey;
  const value = g.kind === 'date_histogram' ? (b.key_as_string ?? null) : g.kind === 'range' ? (b.key as string) : (b.key_as_string !== undefined && g.kind === 'terms' && typeof b.key === 'number' && /^(true|false)$/.test(b.key_as_string) ? b.key_as_string === 'true' : (b.key as GroupValue));
  return { [g.field]: value };
}

function metricValues(req: AnalyticsRequest, aggs: Record<string, unknown>, count: number): Record<string, MetricValue> {
  return Object.fromEntries(
    req.metrics.map((m, i) => {
      if (m.fn === 'count') return [m.name, count];
      const a = aggs[`m${i}`] as { value?: number | null; value_as_string?: string; values?: Record<string, number | null> } | undefined;
      if (m.fn === 'percentiles') return [m.name, Object.fromEntries(Object.entries(a?.values ?? {}).map(([k, v]) => [String(Number(k)), v]))];
      if (a?.value_as_string !== undefined && a.value !== null && (m.fn === 'min' || m.fn === 'max') && /^\d{4}-/.test(a.value_as_string)) return [m.name, a.value_as_string];
      return [m.name, a?.value ?? null];
    }),
  );
}
