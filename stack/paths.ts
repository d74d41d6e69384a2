import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServiceName } from './types';

/** Where a stack keeps its files; all derived from the state folder so two clones never collide. */
export interface StackPaths {
  readonly stateDir: string;
  readonly runDir: string;
  readonly logsDir: string;
  readonly envFile: string;
  readonly stateFile: string;
  readonly lockFile: string;
  /**
   * Fallback home for data of services that run as another user and cannot traverse the state
   * folder (e.g. a clone under a 0700 home): `/var/tmp/search-pipeline-<hash of state dir>`.
   */
  readonly externalRoot: string;
}

export function stackPaths(stateDir: string): StackPaths {
  const dir = path.resolve(stateDir);
  return {
    stateDir: dir,
    runDir: path.join(dir, 'run'),
    logsDir: path.join(dir, 'logs'),
    envFile: path.join(dir, 'stack.env'),
    stateFile: path.join(dir, 'state.json'),
    lockFile: path.join(dir, 'lock'),
    externalRoot: path.join('/var/tmp', `search-pipeline-${shortHash(dir)}`),
  };
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

export const pidFile = (p: StackPaths, s: ServiceName): string => path.join(p.runDir, `${s}.pid`);
export const logFile = (p: StackPaths, s: ServiceName): string => path.join(p.logsDir, `${s}.log`);
export const localServiceDir = (p: StackPaths, s: ServiceName): string => path.join(p.stateDir, s);

/**
 * The real folder of a service's files: `.stack/<service>` may be a symlink into `externalRoot`,
 * and processes running as other users must be given the real path (they cannot follow ours).
 */
export function serviceDir(p: StackPaths, s: ServiceName): string {
  const local = localServiceDir(p, s);
  try {
    return fs.realpathSync(local);
  } catch {
    return local;
  }
}

/** Points `link` at `target` (replacing any older link) so `.stack/` stays the one place to look. */
export function replaceSymlink(target: string, link: string): void {
  if (path.resolve(target) === path.resolve(link)) return;
  try {
    const st = fs.lstatSync(link);
    if (!st.isSymbolicLink()) fs.rmSync(link, { recursive: true, force: true });
    else if (fs.readlinkSync(link) === target) return;
    else fs.unlinkSync(link);
  } catch {
    // Nothing there yet.
  }
  fs.symlinkSync(target, link);
}
