import type { IndexSpec } from '../../config/pipeline';
import { badRequest } from '../errors';
import { CONSISTENCY_PARAMS } from '../freshness/read-your-writes';
import type { ParamKinds, Params } from '../http/params';
import { isCalendarDate, isUtcOffset } from '../search/dates';
import { exactPath, fieldPaths, findPath, listPaths, type FieldPath } from '../search/field-paths';
import { canonicalFilter, parseFilter, typedValue, type FilterClause } from '../search/filter';
import type { AnalyticsRequest, GroupKey, Metric, MetricFn } from './analytics-request';
import { methodKey, parsePercentilesMethod, PERCENTILES_PARAMS, type PercentilesMethod } from './percentiles-method';

/**
 * Analytics parameters (docs/api.md, "Analytics"), the same for GET and POST:
 *   metrics=count,avg(year),percentiles(rom_bytes),cardinality(publisher)
 *   groupBy=system | year:10 | release_date:month | release_date:6h | system,year:10 (composite)
 *   ranges=..1990,1990..2000,2000..   (with one groupBy field: range buckets, from ≤ x < to)
 *   filter=... (as in search), timeField/from/to, timeZone, groupSize, composite, after, percents
 */
export const ANALYTICS_PARAMS = {
  filter: 'string',
  metrics: 'string',
  groupBy: 'string',
  groupSize: 'integer',
  ranges: 'string',
  timeField: 'string',
  from: 'string',
  to: 'string',
  timeZone: 'string',
  composite: 'boolean',
  after: 'string',
  percents: 'string',
  ...PERCENTILES_PARAMS,
  format: 'string',
  // Read-your-writes (freshness/read-your-writes.ts); not part of the normalised request.
  ...CONSISTENCY_PARAMS,
} as const satisfies ParamKinds;

export const MAX_GROUP_SIZE = 1_000;
const MAX_METRICS = 10;
const MAX_GROUP_KEYS = 3;
const MAX_RANGES = 50;
const CALENDAR = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
const FIXED = /^(\d{1,6})(ms|s|m|h|d)$/;
const NUMERIC = ['integer', 'long', 'float', 'double'];

export interface ParsedAnalytics {
  request: AnalyticsRequest;
  /** The time range, checked and typed, when from/to were given. */
  time?: { field: string; from?: string; to?: string };
  normalised: Record<string, unknown>;
}

export function parseAnalytics(index: IndexSpec, p: Params): ParsedAnalytics {
  const filters = parseFilter(p.str('filter'), index);
  const time = timeRange(index, p);
  if (time) filters.push(time.clause);
  const percents = p.list('percents', 10).map((s) => {
    const n = Number(s);
    if (!/^\d{1,3}(\.\d{1,3})?$/.test(s) || n < 0 || n > 100) throw badRequest('PARAM_INVALID', `percents: ${JSON.stringify(s.slice(0, 20))} is not a percentage between 0 and 100`);
    return n;
  });
  const metricNames = p.list('metrics', MAX_METRICS);
  const method = parsePercentilesMethod(p);
  const metrics = (metricNames.length ? metricNames : ['count']).map((m) => parseMetric(index, m, percents.length ? percents : [50, 90, 95, 99], method));
  const groupBy = p.list('groupBy', MAX_GROUP_KEYS).map((g) => parseGroup(index, g));
  sameObjects(groupBy);
  const rangesText = p.str('ranges');
  if (rangesText !== undefined) {
    const only = groupBy[0];
    if (groupBy.length !== 1 || only?.kind !== 'terms') throw badRequest('PARAM_CONFLICT', 'ranges needs exactly one groupBy field without an interval, e.g. groupBy=year&ranges=..1990,1990..2000,2000..');
    groupBy[0] = rangeGroup(index, only.field, rangesText);
  }
  const composite = p.bool('composite', false) || groupBy.length > 1 || p.has('after');
  if (composite && !groupBy.length) throw badRequest('PARAM_CONFLICT', 'composite paging needs groupBy');
  if (composite && groupBy.some((g) => g.kind === 'range')) throw badRequest('PARAM_CONFLICT', 'range buckets cannot be paged; drop ranges or composite/after, or group by more than one field without ranges');
  const timeZone = p.str('timeZone');
  if (timeZone !== undefined && !validTimeZone(timeZone)) throw badRequest('PARAM_INVALID', `timeZone: ${JSON.stringify(timeZone.slice(0, 60))} is not a time zone; use an IANA name (Europe/Paris) or an offset within ±18:00 (+02:00)`);
  const request: AnalyticsRequest = {
    filters,
    metrics,
    groupBy,
    groupSize: p.int('groupSize', 10, 1, MAX_GROUP_SIZE),
    composite,
    ...(p.has('after') ? { after: parseAfter(p.str('after') as string, groupBy) } : {}),
    ...(timeZone ? { timeZone } : {}),
  };
  // Everything the answer depends on, canonical and in a fixed key order: the future cache key.
  const normalised = {
    index: index.name,
    filter: canonicalFilter(filters),
    metrics: metrics.map((m) => m.name),
    percents: metrics.some((m) => m.fn === 'percentiles') ? (metrics.find((m) => m.percents)?.percents ?? null) : null,
    ...(metrics.some((m) => m.fn === 'percentiles') ? { percentilesMethod: methodKey(method) } : {}),
    groupBy: p.list('groupBy', MAX_GROUP_KEYS),
    ranges: rangesText ?? null,
    groupSize: request.groupSize,
    composite,
    after: request.after ?? null,
    timeZone: timeZone ?? null,
  };
  return { request, ...(time ? { time: { field: time.clause.field, from: time.from, to: time.to } } : {}), normalised };
}

// Text is analysed; only its .raw sub-field (present when facetable/filterable/sortable) aggregates.
const canAggregate = ({ spec: f }: FieldPath): boolean => f.type !== 'text' || f.facetable || f.filterable || f.sortable;

/** A field path that aggregates, with what a group or metric on it needs: its exact and nested names. */
function aggregatable(index: IndexSpec, name: string, what: string): FieldPath & { esField: string; at: { nested?: readonly string[] } } {
  const f = findPath(index, name);
  if (!f || !canAggregate(f)) throw badRequest('ANALYTICS_FIELD_NOT_ALLOWED', `${what}: ${JSON.stringify(name.slice(0, 60))} cannot be aggregated in ${index.name}; fields: ${listPaths(index, canAggregate)}`);
  return { ...f, esField: exactPath(f), at: f.nested.length ? { nested: f.nested } : {} };
}

/**
 * The groups of one request bucket the same documents: the roots, or the objects of one nested
 * relation (whose buckets then count their roots, es-analytics.ts). A composite of a root field
 * and a nested one, or of two nested relations, has no documents to bucket together.
 */
function sameObjects(groupBy: GroupKey[]): void {
  const where = (g: GroupKey) => (g.nested ?? []).join('>');
  const first = groupBy[0];
  if (first && groupBy.some((g) => where(g) !== where(first))) {
    throw badRequest('GROUP_INVALID', `groupBy: ${groupBy.map((g) => g.field).join(', ')} lie in different nested relations (or some at the root); group by fields of the root (and its object relations) or of one nested relation at a time`);
  }
}

function parseMetric(index: IndexSpec, text: string, percents: number[], method: PercentilesMethod): Metric {
  if (text === 'count') return { name: 'count', fn: 'count' };
  const m = /^(sum|avg|min|max|percentiles|cardinality)\(([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)\)$/.exec(text);
  if (!m) throw badRequest('METRIC_INVALID', `metrics: ${JSON.stringify(text.slice(0, 60))} is not a metric; use count, or sum, avg, min, max, percentiles, cardinality with a field, e.g. avg(year)`);
  const fn = m[1] as MetricFn;
  const f = aggregatable(index, m[2] as string, `metrics ${text}`);
  const type = f.spec.type;
  const numeric = NUMERIC.includes(type) || (type === 'date' && (fn === 'min' || fn === 'max'));
  if (fn !== 'cardinality' && !numeric) throw badRequest('METRIC_INVALID', `metrics: ${fn} needs a numeric field and ${f.path} is ${type}; cardinality works on any field`);
  return { name: text, fn, esField: f.esField, ...f.at, ...(fn === 'percentiles' ? { percents, method } : {}) };
}

function parseGroup(index: IndexSpec, text: string): GroupKey {
  // A path has dots, never colons: the last colon-separated part is the interval.
  const [name, interval, ...rest] = text.split(':');
  if (rest.length || !name) throw badRequest('GROUP_INVALID', `groupBy: ${JSON.stringify(text.slice(0, 60))} is not field or field:interval`);
  const f = aggregatable(index, name, 'groupBy');
  const type = f.spec.type;
  const base = { field: f.path, esField: f.esField, ...f.at };
  if (interval === undefined) return { ...base, kind: 'terms' };
  if (NUMERIC.includes(type)) {
    const n = Number(interval);
    if (!/^\d+(\.\d+)?$/.test(interval) || !(n > 0)) throw badRequest('GROUP_INVALID', `groupBy: the interval of ${f.path} must be a positive number, e.g. ${f.path}:10`);
    return { ...base, kind: 'histogram', interval: n };
  }
  if (type === 'date') {
    if ((CALENDAR as readonly string[]).includes(interval)) return { ...base, kind: 'date_histogram', calendarInterval: interval };
    if (FIXED.test(interval) && Number(FIXED.exec(interval)?.[1]) > 0) return { ...base, kind: 'date_histogram', fixedInterval: interval };
    throw badRequest('GROUP_INVALID', `groupBy: the interval of ${f.path} must be a calendar unit (${CALENDAR.join(', ')}) or a fixed length like 30m, 6h, 7d`);
  }
  throw badRequest('GROUP_INVALID', `groupBy: ${f.path} is a ${type} field; intervals apply to numeric and date fields (group by ${f.path} alone for its values)`);
}

function rangeGroup(index: IndexSpec, name: string, text: string): GroupKey {
  const f = aggregatable(index, name, 'groupBy');
  const type = f.spec.type;
  if (!NUMERIC.includes(type) && type !== 'date') throw badRequest('GROUP_INVALID', `ranges: ${f.path} is a ${type} field; ranges apply to numeric and date fields`);
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length || parts.length > MAX_RANGES) throw badRequest('GROUP_INVALID', `ranges: give 1 to ${MAX_RANGES} ranges like ..1990,1990..2000,2000..`);
  const ranges = parts.map((part) => {
    const [lo, hi, ...rest] = part.split('..');
    if (rest.length || hi === undefined || (lo === '' && hi === '')) throw badRequest('GROUP_INVALID', `ranges: ${JSON.stringify(part.slice(0, 40))} is not from..to, from.. or ..to`);
    const val = (v: string) => typedValue({ name: f.path, type }, v) as string | number;
    return { key: part, ...(lo ? { from: val(lo) } : {}), ...(hi ? { to: val(hi) } : {}) };
  });
  return { field: f.path, esField: f.esField, ...f.at, kind: 'range', date: type === 'date', ranges };
}

function timeRange(index: IndexSpec, p: Params): { clause: FilterClause & { kind: 'range' }; from?: string; to?: string } | undefined {
  const from = p.str('from') || undefined;
  const to = p.str('to') || undefined;
  if (!from && !to) {
    if (p.str('timeField')) throw badRequest('PARAM_CONFLICT', 'timeField needs from and/or to');
    return undefined;
  }
  const dates = fieldPaths(index).filter((f) => f.spec.type === 'date');
  // The default is the root's only date field: a relation's dates (an item's shipping date) are
  // rarely the time of the document, and adding one must not change what a request means.
  const own = dates.filter((d) => index.fields.includes(d.spec));
  const name = p.str('timeField') ?? (own.length === 1 ? own[0]?.path : undefined);
  const f = dates.find((x) => x.path === name);
  if (!f) throw badRequest('PARAM_INVALID', `timeField: name the date field of the time range; date fields of ${index.name}: ${dates.map((d) => d.path).join(', ') || 'none'}`);
  const gte = from === undefined ? undefined : timeBound('from', from);
  const lte = to === undefined ? undefined : timeBound('to', to);
  if (gte && lte && Date.parse(pad(gte)) > Date.parse(pad(lte))) throw badRequest('PARAM_INVALID', 'from is after to; swap them');
  const clause = { field: f.path, esField: f.path, type: f.spec.type, negate: false, kind: 'range' as const, ...(f.nested.length ? { nested: f.nested } : {}), ...(gte ? { gte } : {}), ...(lte ? { lte } : {}) };
  return { clause, ...(gte ? { from: gte } : {}), ...(lte ? { to: lte } : {}) };
}

/** from/to are parameters of their own: an error names them, not the filter. */
function timeBound(name: 'from' | 'to', v: string): string {
  if (!isCalendarDate(v)) throw badRequest('PARAM_INVALID', `${name}: ${JSON.stringify(v.slice(0, 60))} is not a date; give one such as 1994, 1994-03 or 1994-03-21T10:00:00Z (a real day of the calendar; offsets within ±18:00)`);
  return v;
}

/** A year alone parses as a number in some engines; make every date string a full ISO prefix. */
export function pad(d: string): string {
  return /^\d{4}$/.test(d) ? `${d}-01-01` : d;
}

function validTimeZone(tz: string): boolean {
  if (/^[+-]\d{2}:\d{2}$/.test(tz)) return isUtcOffset(tz);
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseAfter(text: string, groupBy: GroupKey[]): Record<string, unknown> {
  const invalid = badRequest('AFTER_INVALID', 'after must be the after value of the previous analytics response, unchanged');
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw invalid;
  const keys = Object.keys(obj);
  const expected = groupBy.map((g) => g.field);
  if (keys.length !== expected.length || !keys.every((k) => expected.includes(k))) throw invalid;
  for (const v of Object.values(obj)) if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) throw invalid;
  return obj as Record<string, unknown>;
}

export function encodeAfter(after: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(after)).toString('base64url');
}
