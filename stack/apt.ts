import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StackError } from './errors';
import { createMutex } from './mutex';
import { runCommand } from './process';
import type { LogFn, ServiceName } from './types';

// dpkg has one lock per machine: two installs from one `up` (say postgres and redis) must queue.
const aptQueue = createMutex();

export interface EnsureAptOptions {
  log?: LogFn;
  /** Named in the error; defaults to `stack`. */
  service?: ServiceName | 'stack';
  isRoot?: boolean;
}

/**
 * Makes sure Debian package `pkg` is installed, judged by `probePath` existing (cheap and exact,
 * unlike asking dpkg). As root it runs `apt-get install`, refreshing the package lists only when
 * the install fails (they are usually fresh enough and an update costs ~10 s); otherwise it
 * fails with the command to run.
 */
export async function ensureAptPackage(pkg: string, probePath: string, opts: EnsureAptOptions = {}): Promise<void> {
  if (fs.existsSync(probePath)) return;
  const service = opts.service ?? 'stack';
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw new StackError({
      code: 'MISSING_DEPENDENCY',
      service,
      what: `${probePath} is missing (Debian package ${pkg}) and installing it needs root`,
      hint: `Run \`sudo apt-get install -y ${pkg}\`, then run the command again`,
    });
  }
  await aptQueue(async () => {
    if (fs.existsSync(probePath)) return;
    const logPath = path.join(os.tmpdir(), `search-pipeline-apt-${pkg}.log`);
    opts.log?.(`${service}: installing ${pkg} with apt-get`);
    let result = await aptGet(['install', '-y', '--no-install-recommends', pkg], logPath);
    if (result.code !== 0) {
      opts.log?.(`${service}: apt-get install ${pkg} failed; refreshing package lists and retrying`);
      await aptGet(['update'], logPath);
      result = await aptGet(['install', '-y', '--no-install-recommends', pkg], logPath);
    }
    if (result.code !== 0 || !fs.existsSync(probePath)) {
      const last = result.output.trim().split('\n').pop() ?? '';
      throw new StackError({
        code: 'MISSING_DEPENDENCY',
        service,
        what: `installing Debian package ${pkg} failed (apt-get exit ${result.code}${last ? `: ${last}` : ''}) or did not provide ${probePath}`,
        logPath,
        hint: `Run \`apt-get update && apt-get install -y ${pkg}\` yourself to see why, then run the command again`,
      });
    }
  });
}

async function aptGet(args: string[], logPath: string): Promise<{ code: number | null; output: string }> {
  const result = await runCommand('apt-get', ['-o', 'DPkg::Lock::Timeout=120', ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  fs.appendFileSync(logPath, `$ apt-get ${args.join(' ')}\n${result.output}\n`);
  return result;
}
