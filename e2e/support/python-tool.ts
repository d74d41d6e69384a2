import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadStackConfig } from '../../config/stack-config';

const run = promisify(execFile);

/**
 * A PyPI package pinned to `version`, in a virtualenv under the stack's download cache, created
 * on first use so a fresh machine needs nothing but python3 with venv. A marker file written last
 * tells a complete install from one that was interrupted (which is redone). Answers the venv's folder.
 */
export async function pythonTool(pkg: string, version: string): Promise<string> {
  const venv = path.join(loadStackConfig().cacheDir, `venv-${pkg}-${version}`);
  const marker = path.join(venv, '.installed');
  if (fs.existsSync(marker)) return venv;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `${pkg}==${version}`], { maxBuffer: 16 * 1024 * 1024 });
  fs.writeFileSync(marker, `${version}\n`);
  return venv;
}
