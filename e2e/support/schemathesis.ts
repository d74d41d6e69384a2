import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadStackConfig } from '../../config/stack-config';

const run = promisify(execFile);

/** Pinned so a new release cannot change what the suite checks without a commit. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * The `st` command of schemathesis (PyPI), in a virtualenv under the stack's download cache,
 * created on first use so a fresh machine needs nothing but python3 with venv. A marker file
 * written last tells a complete install from one that was interrupted (which is redone).
 */
export async function schemathesis(): Promise<string> {
  const venv = path.join(loadStackConfig().cacheDir, `venv-schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = path.join(venv, 'bin', 'st');
  const marker = path.join(venv, '.installed');
  if (fs.existsSync(marker)) return st;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], { maxBuffer: 16 * 1024 * 1024 });
  fs.writeFileSync(marker, `${SCHEMATHESIS_VERSION}\n`);
  return st;
}
