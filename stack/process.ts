import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { sleep } from './wait';

export interface CommandResult {
  code: number | null;
  output: string;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Output is captured (stdout and stderr interleaved) only up to this many characters. */
  maxOutput?: number;
}

/** Runs to completion and captures output; never throws on a non-zero exit (callers explain it). */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const max = opts.maxOutput ?? 64_000;
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.length > max) output = output.slice(-max);
    };
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    // 'exit' rather than 'close': a daemon we launched may keep our pipes open for its lifetime.
    child.once('exit', (code) => setImmediate(() => resolve({ code, output })));
  });
}

/** `cmd args` as `user`, via runuser when that is someone else (we are root). */
export function asUser(user: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, [...args]];
}

export interface Detached {
  pid: number;
  /** Exit code once the process has exited (null when killed by a signal), undefined while running. */
  exitCode(): number | null | undefined;
}

/**
 * Starts a long-lived process in its own process group with output appended to `logPath`, so it
 * outlives the CLI and a file (not a pipe to us) receives what it prints.
 */
export function spawnDetached(cmd: string, args: readonly string[], logPath: string, opts: SpawnOptions = {}): Promise<Detached> {
  const fd = fs.openSync(logPath, 'a');
  return new Promise((resolve, reject) => {
    let exit: number | null | undefined;
    const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', fd, fd] });
    child.once('error', (err) => {
      fs.closeSync(fd);
      reject(err);
    });
    child.once('exit', (code) => {
      exit = code;
    });
    child.once('spawn', () => {
      fs.closeSync(fd);
      child.unref();
      resolve({ pid: child.pid as number, exitCode: () => exit });
    });
  });
}

/** Alive and not a zombie (a zombie still answers kill(0) until it is reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Guards against pid reuse: the process is ours when its command line mentions our service folder
 * or it runs inside it (redis rewrites its command line, but keeps `--dir` as its cwd).
 */
export function processMatches(pid: number, marker: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    if (cmdline.includes(marker)) return true;
    return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(marker);
  } catch {
    return false;
  }
}

export type StopOutcome = 'not-running' | 'stopped' | 'killed';

/** Asks nicely, then SIGKILL after `graceMs`, and returns only once the process is gone. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<StopOutcome> {
  if (!isAlive(pid)) return 'not-running';
  sendSignal(pid, signal);
  if (await waitForExit(pid, graceMs)) return 'stopped';
  sendSignal(pid, 'SIGKILL');
  if (await waitForExit(pid, 10_000)) return 'killed';
  throw new Error(`process ${pid} survived SIGKILL`);
}

export function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePid(file: string, pid: number): void {
  fs.writeFileSync(file, `${pid}\n`);
}

export function removeFile(file: string): void {
  fs.rmSync(file, { force: true });
}
