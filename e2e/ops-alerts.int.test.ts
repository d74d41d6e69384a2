import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureAptPackage } from '../stack/apt';

/**
 * The Prometheus alert rules are valid (`promtool check rules`) and each alert fires, and stays
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
