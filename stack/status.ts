import { loadStackConfig, type StackConfig } from '../config/stack-config';
import { logFile, pidFile } from './paths';
import { readPid } from './process';
import { DRIVERS, readStackEnvAt, runningPid, viewStack } from './registry';
import { pidListensOn } from './sockets';
import { readState } from './state';
import { SERVICE_NAMES, type ServiceName, type ServicePorts, type StackEnv } from './types';

export type ServiceState =
  /** Our process runs and listens on its client port. */
  | 'running'
  /** Our process runs but does not listen (yet): starting, or stuck. */
  | 'not-listening'
  /** A pid file whose process is gone (or is someone else's now). */
  | 'stale'
  | 'stopped';

export interface ServiceStatus {
  service: ServiceName;
  state: ServiceState;
  pid?: number;
  ports?: ServicePorts;
  /** The variable and value this service contributes to stack.env. */
  env?: Partial<StackEnv>;
  logPath: string;
}

export async function stackStatus(opts: { services?: readonly ServiceName[]; config?: StackConfig } = {}): Promise<ServiceStatus[]> {
  const config = opts.config ?? loadStackConfig();
  const paths = viewStack(config);
  const state = readState(paths.stateFile);
  return SERVICE_NAMES.filter((n) => (opts.services ?? SERVICE_NAMES).includes(n)).map((service) => {
    const ports = state.ports[service];
    const base = { service, ports, logPath: logFile(paths, service), env: ports ? DRIVERS[service].env(ports) : undefined };
    const pid = runningPid(paths, service);
    if (pid === undefined) return { ...base, state: readPid(pidFile(paths, service)) ? 'stale' : 'stopped' };
    const listening = ports?.port !== undefined && pidListensOn(pid, ports.port);
    return { ...base, pid, state: listening ? 'running' : 'not-listening' };
  });
}

/** The variables of the stack that is up, as written by `up`; undefined when none is. */
export function readStackEnv(config: StackConfig = loadStackConfig()): StackEnv | undefined {
  return readStackEnvAt(viewStack(config));
}

export function formatStatus(rows: readonly ServiceStatus[]): string {
  return rows
    .map((r) => {
      const ports = r.ports ? Object.entries(r.ports).map(([k, v]) => `${k}=${v}`).join(' ') : '-';
      const pid = r.pid !== undefined ? `pid ${r.pid}` : '-';
      const url = r.state === 'running' && r.env ? Object.values(r.env).join(' ') : '';
      return [r.service.padEnd(14), r.state.padEnd(14), pid.padEnd(12), ports.padEnd(34), url].join('').trimEnd();
    })
    .join('\n');
}
