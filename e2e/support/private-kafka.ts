import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../../config/stack-config';
import { findJavaHome } from '../../stack/java';
import { ensureKafkaLibs, kafkaClusterId, LOG4J, renderServerProperties } from '../../stack/kafka';
import { kafkaBrokerReady } from '../../stack/kafka-probe';
import { kernelFreePort } from '../../stack/ports';
import { runCommand } from '../../stack/process';

export interface PrivateKafka {
  brokers: string;
  port: number;
  /** Stops the broker (SIGTERM waits for a clean shutdown; SIGKILL does not) and waits for the process to end. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
  /** Starts it again on the same ports and data folder; resolves once it serves metadata. */
  start: () => Promise<void>;
  running: () => boolean;
  /** Stops it and removes its folder; safe to call twice. */
  destroy: () => Promise<void>;
  log: () => string;
  /**
   * The values of every record of `topic` as its files on disk hold them, read with Kafka's own
   * DumpLogSegments while the broker is stopped: what Kafka had acknowledged when it went away.
   */
  recordsOnDisk: (topic: string) => Promise<string[]>;
}

/**
 * A throwaway single-node KRaft Kafka in a temp folder on free ports, from the stack's cached
 * jars and server.properties (stack/kafka.ts), for tests that stop and restart the broker. The
 * shared stack's broker is never touched.
 */
export async function startPrivateKafka(opts: { readyTimeoutMs?: number } = {}): Promise<PrivateKafka> {
  const config = loadStackConfig();
  const javaHome = await findJavaHome(config, 'kafka');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-kafka-'));
  const logPath = path.join(dir, 'broker.log');
  const libs = await ensureKafkaLibs({ cacheDir: config.cacheDir, logPath, log: () => undefined, javaHome, isRoot: config.isRoot });
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const ports = { port: await kernelFreePort(), controllerPort: await kernelFreePort() };
  const props = path.join(dir, 'server.properties');
  fs.writeFileSync(props, renderServerProperties(ports, data));
  fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J);
  const java = path.join(javaHome, 'bin', 'java');
  const common = [`-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, '-cp', path.join(libs, '*')];
  const format = await runCommand(java, [...common, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', props, '--ignore-formatted']);
  if (format.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka-storage format failed (exit ${format.code}): ${format.output}`);
  }

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = (): boolean => !!child && child.exitCode === null && child.signalCode === null;

  const start = async (): Promise<void> => {
    if (running()) return;
    const out = fs.openSync(logPath, 'a');
    const c = spawn(java, ['-Xmx384m', '-Djava.awt.headless=true', ...common, 'kafka.Kafka', props], { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!running()) throw new Error(`private Kafka exited during start-up:\n${tail(logPath)}`);
      if (await kafkaBrokerReady(ports.port).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`private Kafka not ready on ${ports.port} after ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail(logPath)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!running()) return;
    const c = child!;
    c.kill(signal);
    // A clean shutdown takes a few seconds; one that hangs is ended anyway.
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await start();
  } catch (err) {
    await stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    brokers: `127.0.0.1:${ports.port}`,
    port: ports.port,
    stop,
    start,
    running,
    destroy: async () => {
      await stop('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
    log: () => tail(logPath),
    recordsOnDisk: async (topic) => {
      if (running()) throw new Error('recordsOnDisk reads a stopped broker\'s files');
      const files = fs.readdirSync(data).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)))
        .flatMap((d) => fs.readdirSync(path.join(data, d)).filter((f) => f.endsWith('.log')).map((f) => path.join(data, d, f)));
      if (!files.length) return [];
      const r = await runCommand(java, [...common, 'kafka.tools.DumpLogSegments', '--print-data-log', '--files', files.join(',')], { maxOutput: 256 * 1024 * 1024 });
      if (r.code !== 0) throw new Error(`DumpLogSegments failed (exit ${r.code}): ${r.output.slice(-2000)}`);
      return [...r.output.matchAll(/^\| offset: \d+ .* payload: (.*)$/gm)].map((m) => m[1]!);
    },
  };
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}
