import * as fs from 'node:fs';
import { StackError } from './errors';
import { logFile, pidFile, serviceDir } from './paths';
import { freshPorts, isPortFree } from './ports';
import { isAlive, removeFile, stopProcess, writePid } from './process';
import { LaunchError, type Launch, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import type { ServicePorts } from './types';
import { AbortedError, WaitTimeoutError, waitUntil } from './wait';

const MAX_ATTEMPTS = 3;

export interface Started {
  ports: ServicePorts;
  pid: number;
}

/**
 * Prepares, launches and waits for one service. When a launch fails and one of its ports turns
 * out to be held by another process (taken between our check and the start), it retries on
 * fresh ports. Whatever failed is stopped before this throws, so a failure leaves nothing behind.
 * `reserved` is shared with the other services starting in this `up`.
 */
export async function startService(driver: ServiceDriver, ctx: ServiceContext, firstPorts: ServicePorts, reserved: Set<number>): Promise<Started> {
  let prepared: PreparedService;
  try {
    prepared = await driver.prepare(ctx);
  } catch (err) {
    if (err instanceof AbortedError || ctx.signal.aborted) throw new AbortedError();
    throw explain(driver, ctx, firstPorts, [], err);
  }
  const pidPath = pidFile(ctx.paths, driver.name);
  let ports = firstPorts;
  for (let attempt = 1; ; attempt++) {
    let launch: Launch | undefined;
    try {
      launch = await prepared.launch(ports);
      const { pid } = launch;
      // Written before waiting, so an interrupted `up` still leaves something `down` can stop.
      writePid(pidPath, pid);
      await waitUntil(`${driver.name} becoming healthy`, async () => {
        launch?.check?.();
        if (!isAlive(pid)) throw new LaunchError(`the server process (pid ${pid}) exited during start-up`);
        return prepared.isReady(ports, pid);
      }, { deadline: ctx.deadline, signal: ctx.signal, intervalMs: 300 });
      return { ports, pid };
    } catch (err) {
      if (launch) {
        if (isAlive(launch.pid)) ctx.log(`${driver.name}: stopping it (pid ${launch.pid}) again`);
        // The driver's own signal: a SIGKILLed postmaster leaves its children and shared memory behind.
        await stopProcess(launch.pid, driver.stopSignal, Math.min(ctx.config.stopGraceMs, 10_000)).catch(() => undefined);
        await launch.cleanup?.();
      }
      removeFile(pidPath);
      if (err instanceof AbortedError || ctx.signal.aborted) throw new AbortedError();
      const taken = await takenPorts(ports);
      if (taken.length > 0 && attempt < MAX_ATTEMPTS && Date.now() < ctx.deadline) {
        const next = await freshPorts(driver.portKeys, reserved);
        ctx.log(`${driver.name}: ${plural(taken)} taken by another process; retrying on ${Object.values(next).join(', ')}`);
        ports = next;
        continue;
      }
      throw explain(driver, ctx, ports, taken, err);
    }
  }
}

const plural = (ports: number[]): string => (ports.length === 1 ? `port ${ports[0]} is` : `ports ${ports.join(', ')} are`);

async function takenPorts(ports: ServicePorts): Promise<number[]> {
  const values = Object.values(ports);
  const free = await Promise.all(values.map((p) => isPortFree(p)));
  return values.filter((_, i) => !free[i]);
}

function explain(driver: ServiceDriver, ctx: ServiceContext, ports: ServicePorts, taken: number[], err: unknown): StackError {
  if (err instanceof StackError) return err;
  const log = logFile(ctx.paths, driver.name);
  // The service's own log first; a launcher's output when the service never got to logging.
  const clue = lastErrorLine(log) ?? (err instanceof LaunchError ? pickErrorLine(err.output) : undefined);
  const base = { service: driver.name, logPath: log, cause: err };
  if (taken.length > 0) {
    return new StackError({
      ...base,
      code: 'PORT_TAKEN',
      what: `${plural(taken)} still taken by another process after ${MAX_ATTEMPTS} attempts on fresh ports`,
      hint: 'Find the process with `ss -ltnp`, stop it or let it finish, then run `up` again',
    });
  }
  if (err instanceof WaitTimeoutError) {
    return new StackError({
      ...base,
      code: 'TIMEOUT',
      what: `it did not become healthy on port ${Object.values(ports).join('/')} within ${Math.round(ctx.config.startTimeoutMs / 1000)} s${clue ? ` (last error in its log: ${clue})` : ''}; it was stopped`,
      hint: 'Read the log for the cause; on a slow or busy machine raise STACK_START_TIMEOUT_MS, then run `up` again',
    });
  }
  const what = err instanceof Error ? err.message : String(err);
  return new StackError({
    ...base,
    code: 'START_FAILED',
    what: `it failed to start: ${what}${clue && !what.includes(clue) ? ` (last error in its log: ${clue})` : ''}`,
    hint: `Fix the cause shown in the log (its data is in ${serviceDir(ctx.paths, driver.name)}), then run \`up\` again`,
  });
}

/** The last line of a log that looks like an error: enough to recognise the problem at a glance. */
export function lastErrorLine(file: string): string | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 16_384));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    fs.closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    return undefined;
  }
  return pickErrorLine(text);
}

export function pickErrorLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  let i = lines.length - 1;
  while (i >= 0 && !(/\b(FATAL|ERROR|PANIC|Exception|failed|error)\b/.test(lines[i] as string) && !/^at /.test(lines[i] as string))) i--;
  if (i < 0) return undefined;
  let hit = lines[i] as string;
  // Java logs the reason on the line after "fatal exception ...": that line is the useful one.
  const next = lines[i + 1];
  if (next && /^(Caused by: )?[\w.$]+(Exception|Error)\b/.test(next)) hit = `${hit}: ${next}`;
  return hit.length > 400 ? `${hit.slice(0, 397)}...` : hit;
}
