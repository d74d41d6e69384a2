import fs from 'node:fs';
import type { Registry } from 'prom-client';
import { createApiMetrics } from '../api/metrics';
import { createIndexerMetrics } from '../indexer/metrics';
import { createIntakeMetrics } from '../ingest/intake/intake-metrics';
import { createIngestMetrics } from '../ingest/metrics';
import { ALERTS, alertExprs, DASHBOARDS, dashboardExprs, metricNames } from './support/promql-names';

/**
 * Every metric a Grafana panel (ops/grafana/dashboards) or an alert (ops/prometheus/alerts.yml)
 * reads is one the services export, so neither can drift from the code: the registries are built
 * here as the services build them. Histograms export _bucket, _sum and _count.
 */
/** Series Prometheus itself adds to every scrape. */
const SYNTHETIC = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

async function exported(): Promise<Set<string>> {
  const ingest = createIngestMetrics();
  createIntakeMetrics(ingest.registry);
  const registries: Registry[] = [ingest.registry, createIndexerMetrics().registry, createApiMetrics().registry];
  const names = new Set(SYNTHETIC);
  for (const r of registries) {
    for (const m of await r.getMetricsAsJSON()) {
      const type = String(m.type); // 'histogram' etc. at run time, whatever the typings' numeric enum says
      const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const s of suffixes) names.add(`${m.name}${s}`);
    }
  }
  return names;
}

describe('metric names of dashboards and alerts', () => {
  it('reads names out of PromQL, not functions, labels, ranges or keywords', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (index, le) (rate(indexer_commit_to_searchable_seconds_bucket{index=~"a|b"}[5m]))) > 2')).toEqual(['indexer_commit_to_searchable_seconds_bucket']);
    expect(metricNames('sum by (job, reason) (x_total unless x_total offset 10m) > 0 or absent(up{job="api"} == 1) and on() vector(1)')).toEqual(['x_total', 'up']);
    expect(metricNames('sum(rate(a_total[$__rate_interval])) / sum(rate(b_total[5m])) * 100')).toEqual(['a_total', 'b_total']);
  });

  it('finds every expression: all four dashboards and every alert', () => {
    expect(fs.readdirSync(DASHBOARDS).sort()).toEqual(['api.json', 'indexer.json', 'ingest.json', 'pipeline-overview.json']);
    const alerts = alertExprs();
    const rules = fs.readFileSync(ALERTS, 'utf8').match(/^\s*- alert:/gm) ?? [];
    expect(alerts).toHaveLength(rules.length);
    // An expression that reads no metric is one the extraction failed on (or a panel of constants).
    for (const { where, expr } of [...alerts, ...dashboardExprs()]) expect([where, metricNames(expr).length > 0]).toEqual([where, true]);
  });

  it('uses only metrics that createIngestMetrics, createIndexerMetrics and createApiMetrics register', async () => {
    const known = await exported();
    const uses = [...alertExprs(), ...dashboardExprs()];
    expect(uses.length).toBeGreaterThan(50);
    const unknown = uses.flatMap(({ where, expr }) => metricNames(expr).filter((n) => !known.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('would catch a name that drifted', async () => {
    const known = await exported();
    expect(known.has('indexer_commit_to_searchable_seconds_bucket')).toBe(true);
    expect(metricNames('rate(indexer_docs_indexed_total[5m])').filter((n) => !known.has(n))).toEqual(['indexer_docs_indexed_total']);
  });
});
