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

/**
 * Resident memory of a process from /proc/<pid>/status, MB: `rss` now and `peak` (VmHWM, the
 * highest it has been over the process's life); NaN once the process is gone.
 */
export function residentMb(pid: number | undefined): { rss: number; peak: number } {
  const kb = (status: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  if (!pid) return { rss: NaN, peak: NaN };
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: kb(s, 'VmRSS') / 1024, peak: kb(s, 'VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}
