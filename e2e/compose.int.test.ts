import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configSource } from './support/config-source';

/**
 * docker-compose.yml stays valid (checked by Debian's docker-compose, no engine needed; npm test
 * installs it) and configures the services with the variables config/ actually reads.
 */
const ROOT = path.join(__dirname, '..');
const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

/** What `docker-compose config` resolves the file to (anchors merged), as JSON through the YAML module docker-compose itself ships with. */
function resolved(env: Record<string, string>): { services: Record<string, { restart?: string; command?: string[]; deploy?: { replicas?: number; resources?: { limits?: { cpus?: string; memory?: string } } }; environment?: Record<string, string>; volumes?: unknown[] }> } {
  const yaml = execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], { stdio: 'pipe', env: { ...process.env, ...env } });
  return JSON.parse(execFileSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml }).toString());
}
const SECRET = { API_CURSOR_SECRET: 'compose-test-secret-0123456789' };

describe('docker-compose.yml', () => {
  it('is valid', () => {
    expect(() => execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], { stdio: 'pipe', env: { ...process.env, ...SECRET } })).not.toThrow();
  });

  it('refuses to start the API replicas without one shared cursor secret, naming the variable', () => {
    const env = { ...process.env };
    delete env.API_CURSOR_SECRET;
    expect(() => execFileSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], { stdio: 'pipe', env })).toThrow(/API_CURSOR_SECRET/);
  });

  it('restarts and caps every service, and runs the compiled JavaScript, not TypeScript', () => {
    const { services } = resolved(SECRET);
    for (const [name, svc] of Object.entries(services)) {
      expect([name, svc.restart, svc.deploy?.resources?.limits?.cpus !== undefined, svc.deploy?.resources?.limits?.memory !== undefined]).toEqual([name, 'unless-stopped', true, true]);
    }
    for (const name of ['ingest', 'indexer', 'api']) expect([name, services[name]!.command!.join(' ')]).toEqual([name, expect.stringMatching(new RegExp(`dist/${name}/main\\.js$`))]);
    expect(services.api!.environment!.API_CURSOR_SECRET).toBe(SECRET.API_CURSOR_SECRET);
    expect(services.balancer!.volumes).toEqual([expect.stringContaining('ops/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro')]);
    // The Dockerfile builds what those commands run, and ships the CLIs.
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('RUN bash scripts/build.sh');
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).not.toMatch(/tsx/);
  });

  it('passes the pipeline services only variables that config/ reads', () => {
    const source = configSource();
    const blocks = [/x-pipeline-env:[\s\S]*?\n\n/, /\n {2}ingest:[\s\S]*?\n\n/, /\n {2}indexer:[\s\S]*?\n\n/, /\n {2}api:[\s\S]*?\n\n/].map((re) => re.exec(compose)?.[0] ?? '');
    const vars = [...new Set(blocks.join('\n').match(/^\s+([A-Z][A-Z0-9_]+):/gm)?.map((l) => l.trim().slice(0, -1)) ?? [])];
    expect(vars).toEqual(expect.arrayContaining(['DATABASE_URL', 'KAFKA_BROKERS', 'ELASTICSEARCH_URL', 'PIPELINE_CONFIG']));
    const unknown = vars.filter((v) => v !== 'REDIS_URL' && !source.includes(`'${v}'`));
    expect(unknown).toEqual([]);
  });

  it('sends the services\' spans to the OpenTelemetry collector, and the collector on to Jaeger', () => {
    const { services } = resolved(SECRET);
    for (const name of ['ingest', 'indexer', 'api']) {
      expect([name, services[name]!.environment!.TRACING, services[name]!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([name, 'otlp', 'http://otel-collector:4318']);
    }
    expect(services.jaeger!.environment!.COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(services['otel-collector']!.volumes).toEqual([expect.stringContaining('ops/otel-collector.yml:/etc/otelcol/config.yml:ro')]);
    const collector = fs.readFileSync(path.join(ROOT, 'ops', 'otel-collector.yml'), 'utf8');
    expect(collector).toMatch(/endpoint: 0\.0\.0\.0:4318/);
    expect(collector).toMatch(/endpoint: jaeger:4317/);
    expect(collector).toMatch(/exporters: \[otlp\/jaeger\]/);
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
