import fs from 'node:fs';
import path from 'node:path';
import { serviceNodeArgs } from '../config/service-runtime';
import { parseEnvFile } from '../stack/env-file';
import { isAlive, processMatches, spawnDetached, stopProcess } from '../stack/process';

/**
 * The product's own processes (ingest, indexer, api) for `npm start` / `npm stop`: each is
 * `node <its flags> --import tsx <service>/main.ts` (config/service-runtime.ts), detached, with its pid in .stack/run and its log in
 * .stack/logs, next to the services the stack runs.
 */
export const APP_NAMES = ['ingest', 'indexer', 'api'] as const;
export type AppName = (typeof APP_NAMES)[number];

const ROOT = path.join(__dirname, '..');

export interface AppDirs { runDir: string; logsDir: string }

const pidPath = (d: AppDirs, n: AppName): string => path.join(d.runDir, `${n}.pid`);
export const appLog = (d: AppDirs, n: AppName): string => path.join(d.logsDir, `${n}.log`);

/** The running pid of an app we started, or undefined (stale pid files are ignored). */
export function runningApp(d: AppDirs, name: AppName): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidPath(d, name), 'utf8').trim());
    return pid > 0 && isAlive(pid) && processMatches(pid, path.join(name, 'main.ts')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startApp(d: AppDirs, name: AppName, env: Record<string, string>): Promise<number> {
  const existing = runningApp(d, name);
  if (existing) return existing;
  fs.mkdirSync(d.runDir, { recursive: true });
  fs.mkdirSync(d.logsDir, { recursive: true });
  const child = await spawnDetached(process.execPath, serviceNodeArgs(name), appLog(d, name), {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  fs.writeFileSync(pidPath(d, name), `${child.pid}\n`);
  return child.pid;
}

export async function stopApp(d: AppDirs, name: AppName, graceMs = 30_000): Promise<boolean> {
  const pid = runningApp(d, name);
  fs.rmSync(pidPath(d, name), { force: true });
  if (!pid) return false;
  await stopProcess(pid, 'SIGTERM', graceMs);
  return true;
}

/** The last lines of an app's log, for error messages. */
export function tailLog(d: AppDirs, name: AppName, lines = 15): string {
  try {
    return fs.readFileSync(appLog(d, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * What `npm start` gave the apps beyond stack.env (their metrics ports, the pipeline config), so
 * `npm run status` and `npm run dead-letters` find them (kept after `npm stop`: status then reports them down).
 */
export const appsEnvFile = (d: AppDirs): string => path.join(d.runDir, 'apps.env');

export function writeAppsEnv(d: AppDirs, env: Record<string, string>): void {
  fs.mkdirSync(d.runDir, { recursive: true });
  fs.writeFileSync(appsEnvFile(d), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
}

export function readAppsEnv(d: AppDirs): Record<string, string> {
  try {
    return parseEnvFile(fs.readFileSync(appsEnvFile(d), 'utf8'));
  } catch {
    return {};
  }
}
