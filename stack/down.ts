import * as fs from 'node:fs';
import { loadStackConfig, type StackConfig } from '../config/stack-config';
import { StackError } from './errors';
import { withLock } from './lock';
import { logFile, pidFile } from './paths';
import { readPid, removeFile, stopProcess } from './process';
import { DRIVERS, publishEnv, runningPid, runningServices, viewStack } from './registry';
import { readState } from './state';
import { SERVICE_NAMES, type LogFn, type ServiceName } from './types';

export interface StackDownOptions {
  /** Services to stop; default all. Pass `stackUp`'s `started` to stop only what it started. */
  services?: readonly ServiceName[];
  log?: LogFn;
  config?: StackConfig;
}

/**
 * Stops services this stack started, i.e. those with a pid file of ours whose process still
 * points at our service folder; anything else, even on our ports, is never touched.
 */
export async function stackDown(opts: StackDownOptions = {}): Promise<{ stopped: ServiceName[] }> {
  const config = opts.config ?? loadStackConfig();
  const log = opts.log ?? (() => undefined);
  const paths = viewStack(config);
  if (!fs.existsSync(paths.runDir)) return { stopped: [] };
  return withLock(paths.lockFile, config.stopGraceMs + 60_000, async () => {
    const wanted = SERVICE_NAMES.filter((n) => (opts.services ?? SERVICE_NAMES).includes(n));
    const stopped: ServiceName[] = [];
    const failures: string[] = [];
    await Promise.all(
      wanted.map(async (name) => {
        const file = pidFile(paths, name);
        const pid = runningPid(paths, name);
        if (pid === undefined) {
          if (readPid(file) !== undefined) log(`${name}: not running (removed a stale pid file)`);
          removeFile(file);
          return;
        }
        log(`${name}: stopping pid ${pid}`);
        try {
          const outcome = await stopProcess(pid, DRIVERS[name].stopSignal, config.stopGraceMs);
          if (outcome === 'killed') log(`${name}: did not stop within ${config.stopGraceMs} ms; killed`);
          removeFile(file);
          stopped.push(name);
        } catch (err) {
          failures.push(`${name} (pid ${pid}, log ${logFile(paths, name)}): ${(err as Error).message}`);
        }
      }),
    );
    publishEnv(paths, readState(paths.stateFile), runningServices(paths).keys());
    if (failures.length > 0) {
      throw new StackError({
        code: 'STOP_FAILED',
        service: 'stack',
        what: `could not stop ${failures.join('; ')}`,
        hint: 'Check the process with `ps -fp <pid>` and stop it by hand, then run `down` again',
      });
    }
    return { stopped: SERVICE_NAMES.filter((n) => stopped.includes(n)) };
  });
}
