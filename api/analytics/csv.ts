import type { AnalyticsRequest, AnalyticsResult, MetricValue } from './analytics-request';

/**
 * Analytics as CSV (RFC 4180): one row per group (or one row without groupBy), group fields
 * first, then count and one column per metric (percentiles spread over `name.p50` columns).
 * Text cells starting with = + - @ get a leading ' so spreadsheets never run them as formulas.
 */
export function toCsv(req: AnalyticsRequest, result: AnalyticsResult): string {
  const percentCols = (name: string, v: MetricValue | undefined) => (v && typeof v === 'object' ? Object.keys(v).map((k) => `${name}.p${k}`) : []);
  const first = result.groups?.[0]?.metrics ?? result.metrics;
  const metricCols = req.metrics.flatMap((m) => (m.fn === 'percentiles' ? percentCols(m.name, first[m.name]) : [m.name]));
  const header = [...req.groupBy.map((g) => g.field), ...(req.metrics.some((m) => m.fn === 'count') ? [] : ['count']), ...metricCols];
  const row = (key: Record<string, unknown>, count: number, metrics: Record<string, MetricValue>) => [
    ...req.groupBy.map((g) => key[g.field]),
    ...(req.metrics.some((m) => m.fn === 'count') ? [] : [count]),
    ...req.metrics.flatMap((m) => {
      const v = metrics[m.name];
      if (m.fn !== 'percentiles') return [v];
      return percentCols(m.name, first[m.name]).map((col) => (v && typeof v === 'object' ? v[col.slice(m.name.length + 2)] : null));
    }),
  ];
  const rows = result.groups ? result.groups.map((g) => row(g.key, g.count, g.metrics)) : [row({}, result.total, result.metrics)];
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
