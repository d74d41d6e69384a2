import { esFilters } from '../search/es-filters';
import { fromNested, inNested, rootsOf, ROOTS } from '../search/nested';
import { percentilesAgg } from './percentiles-method';
import { withPrecision } from './precision';
import type { AnalyticsRequest, AnalyticsResult, GroupKey, GroupValue, Metric, MetricValue } from './analytics-request';

type Agg = Record<string, unknown>;

/**
 * Analytics request → Elasticsearch aggregations (size 0), and the response back to plain rows.
 *
 * Counts are of roots, always. Groups on a field of a nested relation bucket its objects (inside
 * `nested`), and each bucket counts its roots through `reverse_nested` (`roots`): orders per
 * product category, an order with three toys counting once. A metric is computed where its field
 * lives: on the bucket's objects when it is a field of the group's nested relation (the
 * quantity of the toys), else on the bucket's roots (stepping into its own nested relation if it
 * has one).
 */
export function buildAnalyticsBody(req: AnalyticsRequest): Agg {
  const { filter, must_not } = esFilters(req.filters);
  const top = metricAggs(req.metrics, []);
  const body: Agg = {
    size: 0,
    track_total_hits: true,
    query: filter.length || must_not.length ? { bool: { filter, must_not } } : { match_all: {} },
    aggs: { ...top.here },
  };
  if (!req.groupBy.length) return body;
  const at = groupsAt(req);
  const group = req.composite
    ? { composite: { size: req.groupSize, sources: req.groupBy.map((g) => ({ [g.field]: source(g, req) })), ...(req.after ? { after: req.after } : {}) } }
    : single(req.groupBy[0] as GroupKey, req);
  const sub = metricAggs(req.metrics, at);
  // Inside a nested relation, terms rank values by the roots holding them, like facets do.
  if (at.length && 'terms' in group) (group.terms as Agg).order = [{ [ROOTS]: 'desc' }, { _key: 'asc' }];
  const aggs = { ...sub.here, ...(at.length ? rootsOf(sub.atRoots) : {}) };
  (body.aggs as Agg).g = inNested(at, { ...group, ...(Object.keys(aggs).length ? { aggs } : {}) });
  return body;
}

/** The nested relations the groups' buckets are objects of (the same for every group). */
function groupsAt(req: AnalyticsRequest): readonly string[] {
  return req.groupBy[0]?.nested ?? [];
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The metric aggregations of a bucket of documents at `at` (the roots for []): `here` beside
 * the bucket's own documents, `atRoots` under its `reverse_nested` (only when `at` is nested).
 */
function metricAggs(metrics: Metric[], at: readonly string[]): { here: Agg; atRoots: Agg } {
  const here: Agg = {};
  const atRoots: Agg = {};
  metrics.forEach((m, i) => {
    if (m.fn === 'count') return;
    const own = m.nested ?? [];
    if (same(own, at)) here[`m${i}`] = metricAgg(m);
    else if (!at.length) here[`m${i}`] = inNested(own, metricAgg(m));
    else atRoots[`m${i}`] = inNested(own, metricAgg(m));
  });
  return { here, atRoots };
}

/** The result of metric `i` in a bucket built by `metricAggs(…, at)`. */
function metricResult(m: Metric, i: number, at: readonly string[], bucket: Record<string, unknown>): unknown {
  const own = m.nested ?? [];
  if (same(own, at)) return bucket[`m${i}`];
  if (!at.length) return fromNested(own, bucket[`m${i}`]);
  return fromNested(own, (bucket[ROOTS] as Record<string, unknown> | undefined)?.[`m${i}`]);
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
  const result: AnalyticsResult = withPrecision(req.metrics, { tookMs: res.took, total, metrics: metricValues(req, [], aggs, total) });
  if (!aggs.g) return result;
  const at = groupsAt(req);
  const g = fromNested(at, aggs.g) as { buckets?: Bucket[]; after_key?: Record<string, unknown> } | undefined;
  const buckets = g?.buckets ?? [];
  // A bucket of nested objects counts the roots holding them.
  const count = (b: Bucket) => (at.length ? ((b[ROOTS] as { doc_count?: number } | undefined)?.doc_count ?? 0) : b.doc_count);
  result.groups = buckets.map((b) => withPrecision(req.metrics, { key: bucketKey(req, b), count: count(b), metrics: metricValues(req, at, b, count(b)) }));
  // ES returns an after_key even on the last page; a short page means there is nothing after it.
  if (req.composite) result.after = buckets.length < req.groupSize ? null : (g?.after_key ?? null);
  return result;
}

function bucketKey(req: AnalyticsRequest, b: Bucket): Record<string, GroupValue> {
  if (req.composite) return b.key as Record<string, GroupValue>;
  const g = req.groupBy[0] as GroupKey;
  const value = g.kind === 'date_histogram' ? (b.key_as_string ?? null) : g.kind === 'range' ? (b.key as string) : (b.key_as_string !== undefined && g.kind === 'terms' && typeof b.key === 'number' && /^(true|false)$/.test(b.key_as_string) ? b.key_as_string === 'true' : (b.key as GroupValue));
  return { [g.field]: value };
}

function metricValues(req: AnalyticsRequest, at: readonly string[], aggs: Record<string, unknown>, count: number): Record<string, MetricValue> {
  return Object.fromEntries(
    req.metrics.map((m, i) => {
      if (m.fn === 'count') return [m.name, count];
      const a = metricResult(m, i, at, aggs) as { value?: number | null; value_as_string?: string; values?: Record<string, number | null> } | undefined;
      if (m.fn === 'percentiles') return [m.name, Object.fromEntries(Object.entries(a?.values ?? {}).map(([k, v]) => [String(Number(k)), v]))];
      if (a?.value_as_string !== undefined && a.value !== null && (m.fn === 'min' || m.fn === 'max') && /^\d{4}-/.test(a.value_as_string)) return [m.name, a.value_as_string];
      return [m.name, a?.value ?? null];
    }),
  );
}
