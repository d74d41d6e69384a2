import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serviceNodeArgs } from '../../config/service-runtime';

const ROOT = path.join(__dirname, '..', '..');

export interface RunningService { name: string; child: ChildProcess; logFile: string; output: () => string }

/** Starts a service the way `npm start` does (its own process, configured by environment). */
export function startService(name: 'ingest' | 'indexer' | 'api', env: Record<string, string>): RunningService {
  const logFile = path.join(os.tmpdir(), `e2e-${name}-${process.pid}-${Date.now()}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, serviceNodeArgs(name), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return { name, child, logFile, output: () => fs.readFileSync(logFile, 'utf8') };
}

/** Writes `pipeline` as pipeline.json in a new temporary folder named after `name`; returns the file, for PIPELINE_CONFIG. */
export function writePipelineFile(name: string, pipeline: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`)), 'pipeline.json');
  fs.writeFileSync(file, JSON.stringify(pipeline));
  return file;
}

export async function stopService(s: RunningService, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  // A child ended by a signal has exitCode null but signalCode set, and emits 'exit' only once.
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill(signal);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Waits until the service logs `text`; fails at once, with its log, if it exits first. */
export async function waitForOutput(s: RunningService, text: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes(text)) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`${s.name} exited (${s.child.exitCode ?? s.child.signalCode}) before logging "${text}":\n${s.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${s.name} did not log "${text}" within ${timeoutMs} ms:\n${s.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
