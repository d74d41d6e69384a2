import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * docker-compose.yml stays valid (checked by Debian's docker-compose, no engine needed; npm test
 * installs it) and configures the services with the variables config/ actually reads.
 */
const ROOT = path.join(__dirname, '..');
const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

describe('docker-compose.yml', () => {
  it('is valid', () => {
    expect(() => execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], { stdio: 'pipe' })).not.toThrow();
  });

  it('passes the pipeline services only variables that config/ reads', () => {
    const configSource = ['index.ts', 'env.ts'].map((f) => fs.readFileSync(path.join(ROOT, 'config', f), 'utf8')).join('\n');
    const blocks = [/x-pipeline-env:[\s\S]*?\n\n/, /\n {2}ingest:[\s\S]*?\n\n/, /\n {2}indexer:[\s\S]*?\n\n/, /\n {2}api:[\s\S]*?\n\n/].map((re) => re.exec(compose)?.[0] ?? '');
    const vars = [...new Set(blocks.join('\n').match(/^\s+([A-Z][A-Z0-9_]+):/gm)?.map((l) => l.trim().slice(0, -1)) ?? [])];
    expect(vars).toEqual(expect.arrayContaining(['DATABASE_URL', 'KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'PIPELINE_CONFIG']));
    const unknown = vars.filter((v) => v !== 'REDIS_URL' && !configSource.includes(`'${v}'`));
    expect(unknown).toEqual([]);
  });

  it('persists Redis (the API keys) with the append-only file on a volume', () => {
    const redis = /\n {2}redis:[\s\S]*?\n\n/.exec(compose)?.[0] ?? '';
    expect(redis).toMatch(/"--appendonly", "yes"/);
    expect(redis).toMatch(/volumes: \["redisdata:\/data"\]/);
  });

  it('scrapes the API\'s /metrics with the token the API requires', () => {
    const api = /\n {2}api:[\s\S]*?\n\n/.exec(compose)?.[0] ?? '';
    const prometheus = /\n {2}prometheus:[\s\S]*?\n\n/.exec(compose)?.[0] ?? '';
    expect(api).toMatch(/API_METRICS_TOKEN: \$\{API_METRICS_TOKEN/);
    expect(prometheus).toMatch(/API_METRICS_TOKEN: \$\{API_METRICS_TOKEN/);
    expect(prometheus).toContain('/prometheus/api-metrics-token');
    const scrape = fs.readFileSync(path.join(ROOT, 'ops', 'prometheus.yml'), 'utf8');
    expect(/job_name: api[\s\S]*credentials_file: \/prometheus\/api-metrics-token/.test(scrape)).toBe(true);
  });

  it('loads the alert rules into Prometheus and provisions Grafana with the data source and dashboards', () => {
    const prometheus = /\n {2}prometheus:[\s\S]*?\n\n/.exec(compose)?.[0] ?? '';
    const grafana = /\n {2}grafana:[\s\S]*?\n\n/.exec(compose)?.[0] ?? '';
    const scrape = fs.readFileSync(path.join(ROOT, 'ops', 'prometheus.yml'), 'utf8');
    expect(prometheus).toContain('"./ops/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro"');
    expect(scrape).toMatch(/^rule_files: \["\/etc\/prometheus\/alerts.yml"\]$/m);
    // The alerts name these jobs (ServiceDown, ServiceInstanceDown): the scrape config must too.
    expect([...scrape.matchAll(/job_name: (\S+)/g)].map((m) => m[1])).toEqual(['ingest', 'indexer', 'api']);
    expect(grafana).toContain('"./ops/grafana/provisioning:/etc/grafana/provisioning:ro"');
    expect(grafana).toContain('"./ops/grafana/dashboards:/var/lib/grafana/dashboards:ro"');
    const provider = fs.readFileSync(path.join(ROOT, 'ops', 'grafana', 'provisioning', 'dashboards', 'search-pipeline.yml'), 'utf8');
    expect(provider).toContain('path: /var/lib/grafana/dashboards');
    const datasource = fs.readFileSync(path.join(ROOT, 'ops', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8');
    expect(datasource).toContain('uid: prometheus');
    expect(datasource).toContain('url: http://prometheus:9090');
    // Every panel queries that data source by its uid.
    for (const f of fs.readdirSync(path.join(ROOT, 'ops', 'grafana', 'dashboards'))) {
      const d = JSON.parse(fs.readFileSync(path.join(ROOT, 'ops', 'grafana', 'dashboards', f), 'utf8')) as { uid: string; panels: Array<{ datasource?: { uid?: string } }> };
      expect([f, d.uid, d.panels.every((p) => p.datasource?.uid === 'prometheus')]).toEqual([f, expect.stringMatching(/^search-pipeline-/), true]);
    }
  });
});
