import * as fs from 'node:fs';
import type { StackConfig } from '../config/stack-config';
import { elasticsearchDriver } from './elasticsearch';
import { readEnvFile, renderEnvFile, writeFileAtomic } from './env-file';
import { kafkaDriver } from './kafka';
import { pidFile, serviceDir, stackPaths, type StackPaths } from './paths';
import { HOST } from './ports';
import { postgresDriver } from './postgres';
import { isAlive, processMatches, readPid } from './process';
import { redisDriver } from './redis';
import type { ServiceDriver } from './service';
import type { StackState } from './state';
import { SERVICE_NAMES, type ServiceName, type StackEnv } from './types';

export const DRIVERS: Readonly<Record<ServiceName, ServiceDriver>> = {
  postgres: postgresDriver,
  kafka: kafkaDriver,
  elasticsearch: elasticsearchDriver,
  redis: redisDriver,
};

/** Creates the state folders and returns their paths, resolved so they match /proc's view. */
export function openStack(config: StackConfig): StackPaths {
  fs.mkdirSync(config.stackDir, { recursive: true });
  const paths = stackPaths(fs.realpathSync(config.stackDir));
  fs.mkdirSync(paths.runDir, { recursive: true });
  fs.mkdirSync(paths.logsDir, { recursive: true });
  return paths;
}

/** Read-only view for status and readStackEnv: never creates folders. */
export function viewStack(config: StackConfig): StackPaths {
  let dir = config.stackDir;
  try {
    dir = fs.realpathSync(dir);
  } catch {
    // No stack yet.
  }
  return stackPaths(dir);
}

/**
 * The pid of a service we started, if it still runs. A pid file alone proves nothing after a
 * reboot (pids are reused), so the process must also point at this stack's service folder.
 */
export function runningPid(paths: StackPaths, name: ServiceName): number | undefined {
  const dir = serviceDir(paths, name);
  const own = DRIVERS[name].serverPidFile?.(dir);
  for (const file of [pidFile(paths, name), ...(own ? [own] : [])]) {
    const pid = readPid(file);
    if (pid !== undefined && isAlive(pid) && processMatches(pid, dir)) return pid;
  }
  return undefined;
}

export function runningServices(paths: StackPaths): Map<ServiceName, number> {
  const out = new Map<ServiceName, number>();
  for (const name of SERVICE_NAMES) {
    const pid = runningPid(paths, name);
    if (pid !== undefined) out.set(name, pid);
  }
  return out;
}

export function stackEnvFor(state: StackState, names: Iterable<ServiceName>): StackEnv {
  const api = state.ports.api?.port;
  const env: StackEnv = { API_URL: `http://${HOST}:${api ?? 0}` };
  for (const name of names) {
    const ports = state.ports[name];
    if (ports?.port !== undefined) Object.assign(env, DRIVERS[name].env(ports));
  }
  return env;
}

/** Writes stack.env for the services now running; removes it once nothing runs. */
export function publishEnv(paths: StackPaths, state: StackState, running: Iterable<ServiceName>): StackEnv | undefined {
  const names = [...running];
  if (names.length === 0) {
    fs.rmSync(paths.envFile, { force: true });
    return undefined;
  }
  const env = stackEnvFor(state, names);
  writeFileAtomic(paths.envFile, renderEnvFile(env));
  return env;
}

export function readStackEnvAt(paths: StackPaths): StackEnv | undefined {
  return readEnvFile(paths.envFile);
}
