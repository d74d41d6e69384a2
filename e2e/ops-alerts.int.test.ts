import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureAptPackage } from '../stack/apt';
import { dashboardExprs } from './support/promql-names';

/**
 * The Prometheus alert rules (and the dashboards' queries) are valid (`promtool check rules`) and each alert fires, and stays
 * quiet, where its unit tests say (`promtool test rules ops/prometheus/alerts.test.yml`).
 * promtool comes with Debian's prometheus package, installed here when missing.
 */
const ROOT = path.join(__dirname, '..');
const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

describe('ops/prometheus alert rules', () => {
  beforeAll(async () => {
    await ensureAptPackage('prometheus', PROMTOOL, { log: (m) => process.stderr.write(`${m}\n`) });
  }, 600_000);

  it('pass promtool check rules', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', 'ops/prometheus/alerts.yml'], { cwd: ROOT });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests (promtool test rules)', async () => {
    const res = await run(PROMTOOL, ['test', 'rules', 'ops/prometheus/alerts.test.yml'], { cwd: ROOT }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(res.stdout).toContain('SUCCESS');
  });
});

describe('ops/grafana dashboards', () => {
  beforeAll(async () => {
    await ensureAptPackage('prometheus', PROMTOOL, { log: (m) => process.stderr.write(`${m}\n`) });
  }, 600_000);

  it('hold only PromQL that Prometheus parses (checked as recording rules)', async () => {
    const exprs = dashboardExprs();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-promql-'));
    try {
      // A rules file is the one promtool parses offline; JSON strings are valid YAML scalars.
      const rules = exprs.map((e, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(e.expr)}`).join('\n');
      fs.writeFileSync(path.join(dir, 'dashboards.yml'), `groups:\n  - name: dashboards\n    rules:\n${rules}\n`);
      const { stdout } = await run(PROMTOOL, ['check', 'rules', path.join(dir, 'dashboards.yml')]).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`a dashboard query does not parse:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      });
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
