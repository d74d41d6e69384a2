import fs from 'node:fs';
import { loadStackConfig } from '../config/stack-config';
import { pidFile, stackPaths } from '../stack/paths';
import type { ServiceName } from '../stack/types';

/**
 * CPU seconds (user + system) of a process and of its main thread so far, from /proc; NaN where
 * /proc cannot tell. Unlike a rate, CPU per row or document hardly moves when other work shares
 * the machine, and on 2 shared cores it says what each process leaves the others.
 */
export function cpuSeconds(pid: number | undefined): { process: number; main: number } {
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ = 100
  };
  if (!pid) return { process: NaN, main: NaN };
  try {
    return { process: ticks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')), main: ticks(fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) };
  } catch {
    return { process: NaN, main: NaN };
  }
}

/** The pid of a service the local stack runs (from its pid file); undefined when it has none. */
export function stackPid(name: ServiceName): number | undefined {
  try {
    const n = Number(fs.readFileSync(pidFile(stackPaths(loadStackConfig().stackDir), name), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
