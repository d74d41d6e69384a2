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
});
