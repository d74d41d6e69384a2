import type { IndexSpec } from '../../config/pipeline';
import { badRequest } from '../errors';
import type { SearchBackend } from '../search/search-backend';
import { pad, type ParsedAnalytics } from './analytics-params';

/**
 * Histograms return one bucket per interval between the lowest and highest value, empty ones
 * included, so a 1-second histogram over ten years would be 315 million buckets. Before
 * querying, the span (the time range, else the field's min/max among matching documents) is
 * divided by the interval; too many buckets is a 400 naming the smallest interval that fits.
 * Composite paging returns at most groupSize buckets per page and needs no estimate.
 */
export const MAX_HISTOGRAM_BUCKETS = 2_000;

const MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3_600e3, d: 86_400e3 };
// Shortest possible length of a calendar unit: the estimate may only err on the high side.
const CALENDAR_MS: Record<string, number> = { minute: 60e3, hour: 3_600e3, day: 82_800e3, week: 7 * 82_800e3, month: 28 * 86_400e3, quarter: 89 * 86_400e3, year: 365 * 86_400e3 };

export async function checkBuckets(index: IndexSpec, parsed: ParsedAnalytics, backend: SearchBackend): Promise<void> {
  const req = parsed.request;
  const g = req.groupBy[0];
  if (req.composite || !g || (g.kind !== 'histogram' && g.kind !== 'date_histogram')) return;
  let min: number | null;
  let max: number | null;
  const time = parsed.time;
  if (g.kind === 'date_histogram' && time?.field === g.field && time.from && time.to) {
    min = Date.parse(pad(time.from));
    max = Date.parse(pad(time.to));
    req.bounds = { min: time.from, max: time.to };
  } else {
    ({ min, max } = await backend.fieldRange(index, g, req.filters));
  }
  if (min === null || max === null) return; // no documents: no buckets
  const width = g.kind === 'histogram' ? g.interval : g.fixedInterval ? fixedMs(g.fixedInterval) : (CALENDAR_MS[g.calendarInterval as string] as number);
  const buckets = Math.floor(max / width) - Math.floor(min / width) + 1;
  if (buckets > MAX_HISTOGRAM_BUCKETS) {
    const needed = (max - min) / (MAX_HISTOGRAM_BUCKETS - 1);
    const hint = g.kind === 'histogram' ? `an interval of at least ${Math.ceil(needed)} (groupBy=${g.field}:${Math.ceil(needed)})` : `an interval of at least ${humanMs(needed)} (e.g. groupBy=${g.field}:${suggestCalendar(needed)})`;
    throw badRequest('TOO_MANY_BUCKETS', `groupBy ${g.field} would make about ${buckets.toLocaleString('en')} buckets; at most ${MAX_HISTOGRAM_BUCKETS} are allowed: use ${hint}, narrow from/to, or page with composite=true`);
  }
}

function fixedMs(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s) as RegExpExecArray;
  return Number(m[1]) * (MS[m[2] as string] as number);
}

function humanMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400e3], ['h', 3_600e3], ['m', 60e3], ['s', 1e3]] as const) if (ms >= size) return `${Math.ceil(ms / size)}${unit}`;
  return `${Math.ceil(ms)}ms`;
}

function suggestCalendar(ms: number): string {
  for (const [unit, size] of Object.entries(CALENDAR_MS)) if (size >= ms) return unit;
  return humanMs(ms);
}
