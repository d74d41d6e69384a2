import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../config/stack-config';
import { ensureAptPackage } from '../stack/apt';
import { stackDown } from '../stack/down';
import { stackUp, type StackUpResult } from '../stack/up';

/**
 * `npm test`: typecheck and lint while the real services start, then every jest tier
 * (unit, integration, e2e) against them. Stops afterwards only the services it started
 * (KEEP_STACK=1 keeps them for the next run).
 */
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const say = (m: string): void => void process.stderr.write(`${m}\n`);

function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
    child.once('error', reject).once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const config = loadStackConfig();
  say('test: starting the stack in the background, typechecking and linting meanwhile');
  const upPromise: Promise<StackUpResult> = stackUp({ log: (m) => say(`  stack: ${m}`) });
  upPromise.catch(() => undefined);
  let up: StackUpResult | undefined;
  try {
    if ((await run(path.join(BIN, 'tsc'), ['--noEmit', '-p', '.'])) !== 0) throw new Error('typecheck failed');
    // The search page's browser code has its own compiler options (DOM, bundler resolution).
    if ((await run(path.join(BIN, 'tsc'), ['--noEmit', '-p', 'api/ui/client'])) !== 0) throw new Error('typecheck of the search page failed');
    if ((await run(path.join(BIN, 'eslint'), ['.'])) !== 0) throw new Error('lint failed');
    up = await upPromise;
    // The compose test validates docker-compose.yml without an engine; Debian's package provides the tool.
    await ensureAptPackage('docker-compose', '/usr/bin/docker-compose', { log: (m: string) => say(`  ${m}`) });
    const report = path.join(os.tmpdir(), `jest-report-${process.pid}.json`);
    const code = await run(path.join(BIN, 'jest'), ['--ci', '--maxWorkers=2', '--json', `--outputFile=${report}`], { STACK_DIR: config.stackDir });
    const summary = JSON.parse(fs.readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTotalTests: number };
    fs.rmSync(report, { force: true });
    say(`test: finished in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    process.stdout.write(`${summary.numPassedTests} passed, ${summary.numFailedTests} failed${summary.numPendingTests ? `, ${summary.numPendingTests} skipped` : ''}\n`);
    if (summary.numTotalTests === 0) throw new Error('no test ran');
    return code;
  } finally {
    up ??= await upPromise.catch(() => undefined);
    if (up?.started.length && process.env.KEEP_STACK !== '1') {
      say(`test: stopping what this run started (${up.started.join(', ')}); KEEP_STACK=1 keeps it`);
      await stackDown({ services: up.started });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`npm test failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
