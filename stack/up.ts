import { loadStackConfig, type StackConfig } from '../config/stack-config';
import { StackError, StackUpError } from './errors';
import { startService, type Started } from './launch';
import { withLock } from './lock';
import { pidFile } from './paths';
import { planPorts, type PortRequest } from './ports';
import { removeFile, stopProcess, writePid } from './process';
import { DRIVERS, openStack, publishEnv, runningServices, stackEnvFor } from './registry';
import type { ServiceContext } from './service';
import { pidListensOn } from './sockets';
import { readState, writeState } from './state';
import { SERVICE_NAMES, type LogFn, type ServiceName, type StackEnv } from './types';
import { AbortedError, waitUntil } from './wait';

export interface StackUpOptions {
  /** Services to have running; default all. Others already running are left alone. */
  services?: readonly ServiceName[];
  /** Progress lines (the CLI sends them to stderr). */
  log?: LogFn;
  /** Cancels the `up`; what it started so far is stopped again. */
  signal?: AbortSignal;
  config?: StackConfig;
}

export interface StackUpResult {
  env: StackEnv;
  envFile: string;
  /** Started by this call: what a test runner should stop afterwards (`stackDown({ services })`). */
  started: ServiceName[];
  alreadyRunning: ServiceName[];
}

export async function stackUp(opts: StackUpOptions = {}): Promise<StackUpResult> {
  const config = opts.config ?? loadStackConfig();
  const log = opts.log ?? (() => undefined);
  const paths = openStack(config);
  return withLock(paths.lockFile, config.startTimeoutMs + 60_000, async () => {
    const state = readState(paths.stateFile);
    const wanted = SERVICE_NAMES.filter((n) => (opts.services ?? SERVICE_NAMES).includes(n));
    const running = runningServices(paths);
    for (const name of SERVICE_NAMES) {
      const pid = running.get(name);
      if (pid === undefined) removeFile(pidFile(paths, name));
      else writePid(pidFile(paths, name), pid);
    }
    const toStart = wanted.filter((n) => !running.has(n));
    const alreadyRunning = wanted.filter((n) => running.has(n));

    // The API port is re-checked only when no service runs: while the stack is up, the API
    // itself is probably what listens on it, and moving API_URL under it would break clients.
    const planApi = !state.ports.api || running.size === 0;
    if (toStart.length > 0 || planApi) {
      const reserved = new Set([...running.keys(), ...(planApi ? [] : ['api' as const])].flatMap((n) => Object.values(state.ports[n] ?? {})));
      const requests: PortRequest[] = toStart.map((n) => ({ name: n, keys: DRIVERS[n].portKeys, remembered: state.ports[n] }));
      if (planApi) requests.push({ name: 'api', keys: ['port'], remembered: state.ports.api });
      const plans = await planPorts(requests, reserved);
      for (const [name, plan] of plans) {
        const old = state.ports[name as ServiceName | 'api'];
        if (old && !plan.reused) log(`${name}: remembered port ${Object.values(old).join('/')} is taken; using ${Object.values(plan.ports).join('/')}`);
      }
      if (planApi) state.ports.api = plans.get('api')?.ports;
      const started = await startAll(config, paths, toStart, plans, reserved, log, opts.signal);
      for (const [name, s] of started) {
        state.ports[name] = s.ports;
        running.set(name, s.pid);
      }
      writeState(paths.stateFile, state);
    }

    await waitForListening(paths, alreadyRunning, running, state.ports, config.startTimeoutMs);
    const env = publishEnv(paths, state, running.keys()) ?? stackEnvFor(state, []);
    return { env, envFile: paths.envFile, started: toStart, alreadyRunning };
  });
}

/** Starts services in parallel; on any failure stops every one of them and throws. */
async function startAll(
  config: StackConfig,
  paths: ReturnType<typeof openStack>,
  names: readonly ServiceName[],
  plans: Map<string, { ports: Record<string, number> }>,
  reserved: Set<number>,
  log: LogFn,
  outer: AbortSignal | undefined,
): Promise<Map<ServiceName, Started>> {
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort();
  outer?.addEventListener('abort', onOuterAbort);
  if (outer?.aborted) controller.abort();
  const ctx: ServiceContext = { config, paths, log, signal: controller.signal, deadline: Date.now() + config.startTimeoutMs };
  const started = new Map<ServiceName, Started>();
  const failures: StackError[] = [];
  const t0 = Date.now();
  await Promise.all(
    names.map(async (name) => {
      try {
        const s = await startService(DRIVERS[name], ctx, plans.get(name)?.ports ?? {}, reserved);
        started.set(name, s);
        log(`${name}: up on port ${s.ports.port} (pid ${s.pid}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (err) {
        if (!(err instanceof AbortedError)) {
          failures.push(err instanceof StackError ? err : new StackError({ code: 'START_FAILED', service: name, what: String(err), hint: 'Run `up` again', cause: err }));
        }
        // One failure dooms this `up`: stop the others' waiting instead of letting them finish.
        controller.abort();
      }
    }),
  );
  outer?.removeEventListener('abort', onOuterAbort);
  if (failures.length === 0 && !controller.signal.aborted) return started;

  await Promise.all(
    [...started].map(async ([name, s]) => {
      log(`${name}: stopping it again (pid ${s.pid}) because the stack did not come up`);
      await stopProcess(s.pid, DRIVERS[name].stopSignal, config.stopGraceMs).catch(() => undefined);
      removeFile(pidFile(paths, name));
    }),
  );
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new StackUpError(failures);
  throw new StackError({ code: 'ABORTED', service: 'stack', what: '`up` was interrupted', hint: 'Everything it had started was stopped again; run `up` again when ready' });
}

/** A service found running may be one a previous, interrupted `up` left still starting. */
async function waitForListening(
  paths: ReturnType<typeof openStack>,
  names: readonly ServiceName[],
  running: Map<ServiceName, number>,
  ports: ReturnType<typeof readState>['ports'],
  timeoutMs: number,
): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const pid = running.get(name);
      const port = ports[name]?.port;
      if (pid === undefined || port === undefined) return;
      await waitUntil(`${name} listening on port ${port}`, () => pidListensOn(pid, port), { deadline: Date.now() + timeoutMs }).catch((err) => {
        throw new StackError({ code: 'TIMEOUT', service: name, what: `it runs (pid ${pid}) but does not listen on its port ${port}`, logPath: `${paths.logsDir}/${name}.log`, hint: 'Run `down` and then `up` again', cause: err });
      });
    }),
  );
}
