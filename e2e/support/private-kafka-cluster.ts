import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../../config/stack-config';
import { findJavaHome } from '../../stack/java';
import { ensureKafkaLibs, kafkaClusterId, LOG4J } from '../../stack/kafka';
import { kafkaBrokerReady } from '../../stack/kafka-probe';
import { kernelFreePort } from '../../stack/ports';
import { runCommand } from '../../stack/process';

export interface KafkaClusterNode { id: number; port: number; running: () => boolean }

export interface PrivateKafkaCluster {
  /** Every node's address, comma-separated (KAFKA_BROKERS). */
  brokers: string;
  nodes: readonly KafkaClusterNode[];
  stop: (id: number, signal?: NodeJS.Signals) => Promise<void>;
  start: (id: number) => Promise<void>;
  destroy: () => Promise<void>;
  log: (id: number) => string;
}

/**
 * A throwaway KRaft cluster of `size` nodes (each broker and controller) on loopback, from the
 * stack's cached jars, for tests that kill a broker. Internal topics are replicated on every node
 * with one fewer in sync, as a production cluster of three is run. The shared stack's broker is
 * never touched.
 */
export async function startPrivateKafkaCluster(size = 3): Promise<PrivateKafkaCluster> {
  const config = loadStackConfig();
  const javaHome = await findJavaHome(config, 'kafka');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-kafka-cluster-'));
  const libs = await ensureKafkaLibs({ cacheDir: config.cacheDir, logPath: path.join(dir, 'libs.log'), log: () => undefined, javaHome, isRoot: config.isRoot });
  fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J);
  const java = path.join(javaHome, 'bin', 'java');
  const common = [`-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, '-cp', path.join(libs, '*')];
  const clusterId = kafkaClusterId();
  const specs: Array<{ id: number; port: number; controllerPort: number; data: string; props: string; logPath: string }> = [];
  for (let id = 1; id <= size; id++) specs.push({ id, port: await kernelFreePort(), controllerPort: await kernelFreePort(), data: path.join(dir, `data-${id}`), props: path.join(dir, `server-${id}.properties`), logPath: path.join(dir, `broker-${id}.log`) });
  const voters = specs.map((s) => `${s.id}@127.0.0.1:${s.controllerPort}`).join(',');
  const insync = Math.max(1, size - 1);
  for (const s of specs) {
    fs.mkdirSync(s.data);
    fs.writeFileSync(s.props, `${[
      'process.roles=broker,controller',
      `node.id=${s.id}`,
      `controller.quorum.voters=${voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${s.port},CONTROLLER://127.0.0.1:${s.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${s.port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${s.data}`,
      'auto.create.topics.enable=false',
      `offsets.topic.replication.factor=${size}`,
      `transaction.state.log.replication.factor=${size}`,
      `transaction.state.log.min.isr=${insync}`,
      `min.insync.replicas=${insync}`,
      'unclean.leader.election.enable=false',
      'group.initial.rebalance.delay.ms=0',
    ].join('\n')}\n`);
    const format = await runCommand(java, [...common, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', s.props, '--ignore-formatted']);
    if (format.code !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`kafka-storage format of node ${s.id} failed (exit ${format.code}): ${format.output}`);
    }
  }

  const children = new Map<number, ChildProcess>();
  const running = (id: number): boolean => {
    const c = children.get(id);
    return !!c && c.exitCode === null && c.signalCode === null;
  };
  const spec = (id: number) => specs.find((s) => s.id === id)!;
  const tail = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-3000) : '');

  const start = async (id: number): Promise<void> => {
    if (running(id)) return;
    const s = spec(id);
    const out = fs.openSync(s.logPath, 'a');
    children.set(id, spawn(java, ['-Xmx320m', '-Djava.awt.headless=true', ...common, 'kafka.Kafka', s.props], { cwd: dir, stdio: ['ignore', out, out] }));
    fs.closeSync(out);
  };
  const ready = async (id: number, timeoutMs = 120_000): Promise<void> => {
    const s = spec(id);
    for (const deadline = Date.now() + timeoutMs; ; ) {
      if (!running(id)) throw new Error(`Kafka node ${id} exited during start-up:\n${tail(s.logPath)}`);
      if (await kafkaBrokerReady(s.port).catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`Kafka node ${id} not ready on ${s.port} after ${timeoutMs} ms:\n${tail(s.logPath)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const stop = async (id: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!running(id)) return;
    const c = children.get(id)!;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const destroy = async (): Promise<void> => {
    await Promise.all(specs.map((s) => stop(s.id, 'SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The controllers need a quorum before any broker answers: all start at once.
    for (const s of specs) await start(s.id);
    await Promise.all(specs.map((s) => ready(s.id)));
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    brokers: specs.map((s) => `127.0.0.1:${s.port}`).join(','),
    nodes: specs.map((s) => ({ id: s.id, port: s.port, running: () => running(s.id) })),
    stop,
    start: async (id) => {
      await start(id);
      await ready(id);
    },
    destroy,
    log: (id) => tail(spec(id).logPath),
  };
}
