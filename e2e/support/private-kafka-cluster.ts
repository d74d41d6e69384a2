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
import type { KafkaSecurity } from '../../core/kafka-security';
import { makeTestCertificates, type TestCertificates } from './test-certificates';

export interface KafkaClusterNode { id: number; port: number; running: () => boolean }

export interface PrivateKafkaCluster {
  /** Every node's client address, comma-separated (KAFKA_BROKERS): the SASL_SSL listener when secured. */
  brokers: string;
  /** Secured clusters: what a client sets to reach them (KAFKA_TLS_*, KAFKA_SASL_* below). */
  secured?: SecuredListener;
  nodes: readonly KafkaClusterNode[];
  stop: (id: number, signal?: NodeJS.Signals) => Promise<void>;
  start: (id: number) => Promise<void>;
  destroy: () => Promise<void>;
  log: (id: number) => string;
}

export interface SecuredListener {
  certificates: TestCertificates;
  /** One user, known to PLAIN and with SCRAM-SHA-256 and SCRAM-SHA-512 credentials. */
  user: { name: string; password: string };
  /** The service environment for `mechanism`: CA, client certificate, SASL user. */
  env: (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512') => Record<string, string>;
  /** The same as core/kafka-security.ts's KafkaSecurity, for clients made in the test. */
  security: (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512') => KafkaSecurity;
}

/**
 * A throwaway KRaft cluster of `size` nodes (each broker and controller) on loopback, from the
 * stack's cached jars, for tests that kill a broker. Internal topics are replicated on every node
 * with one fewer in sync, as a production cluster of three is run. The shared stack's broker is
 * never touched.
 *
 * `secured`: clients get a SASL_SSL listener only (a CA and certificates made at start, client
 * certificates required, PLAIN and SCRAM-SHA-256/512 for one user, the SCRAM credentials written
 * at format time); the controller and inter-broker listeners stay plaintext on loopback.
 */
export async function startPrivateKafkaCluster(size = 3, opts: { secured?: boolean } = {}): Promise<PrivateKafkaCluster> {
  const config = loadStackConfig();
  const javaHome = await findJavaHome(config, 'kafka');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-kafka-cluster-'));
  const libs = await ensureKafkaLibs({ cacheDir: config.cacheDir, logPath: path.join(dir, 'libs.log'), log: () => undefined, javaHome, isRoot: config.isRoot });
  fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J);
  const java = path.join(javaHome, 'bin', 'java');
  const common = [`-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, '-cp', path.join(libs, '*')];
  const clusterId = kafkaClusterId();
  const specs: Array<{ id: number; port: number; controllerPort: number; clientPort: number; data: string; props: string; logPath: string }> = [];
  for (let id = 1; id <= size; id++) {
    const port = await kernelFreePort();
    specs.push({ id, port, controllerPort: await kernelFreePort(), clientPort: opts.secured ? await kernelFreePort() : port, data: path.join(dir, `data-${id}`), props: path.join(dir, `server-${id}.properties`), logPath: path.join(dir, `broker-${id}.log`) });
  }
  const secured = opts.secured ? await securedListener(dir) : undefined;
  const voters = specs.map((s) => `${s.id}@127.0.0.1:${s.controllerPort}`).join(',');
  const insync = Math.max(1, size - 1);
  for (const s of specs) {
    fs.mkdirSync(s.data);
    fs.writeFileSync(s.props, `${[
      'process.roles=broker,controller',
      `node.id=${s.id}`,
      `controller.quorum.voters=${voters}`,
      `listeners=PLAINTEXT://127.0.0.1:${s.port},CONTROLLER://127.0.0.1:${s.controllerPort}${secured ? `,SASL_SSL://127.0.0.1:${s.clientPort}` : ''}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${s.port}${secured ? `,SASL_SSL://127.0.0.1:${s.clientPort}` : ''}`,
      `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secured ? ',SASL_SSL:SASL_SSL' : ''}`,
      ...(secured ? securedProperties(secured) : []),
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
    const scram = secured ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${secured.user.name},password=${secured.user.password}]`]) : [];
    const format = await runCommand(java, [...common, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', s.props, '--ignore-formatted', ...scram]);
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
    brokers: specs.map((s) => `127.0.0.1:${s.clientPort}`).join(','),
    ...(secured ? { secured } : {}),
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

async function securedListener(dir: string): Promise<SecuredListener> {
  const certsDir = path.join(dir, 'certs');
  fs.mkdirSync(certsDir);
  const certificates = await makeTestCertificates(certsDir);
  const user = { name: 'pipeline', password: `pw-${Math.random().toString(36).slice(2)}` };
  return {
    certificates,
    user,
    env: (mechanism) => ({
      KAFKA_TLS: '1', KAFKA_TLS_CA_FILE: certificates.caFile, KAFKA_TLS_CERT_FILE: certificates.clientCertFile, KAFKA_TLS_KEY_FILE: certificates.clientKeyFile,
      KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: user.name, KAFKA_SASL_PASSWORD: user.password,
    }),
    security: (mechanism) => ({
      tls: { ca: fs.readFileSync(certificates.caFile, 'utf8'), cert: fs.readFileSync(certificates.clientCertFile, 'utf8'), key: fs.readFileSync(certificates.clientKeyFile, 'utf8') },
      sasl: { mechanism, username: user.name, password: user.password },
    }),
  };
}

/** The SASL_SSL listener's settings: PEM key store and trust store, client certificates required, PLAIN (one user) and SCRAM (users from the metadata log). */
function securedProperties(s: SecuredListener): string[] {
  const l = 'listener.name.sasl_ssl';
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `${l}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${s.user.name}="${s.user.password}";`,
    `${l}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${l}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${l}.ssl.keystore.type=PEM`,
    `${l}.ssl.keystore.location=${s.certificates.serverPemFile}`,
    `${l}.ssl.truststore.type=PEM`,
    `${l}.ssl.truststore.location=${s.certificates.caFile}`,
    `${l}.ssl.client.auth=required`,
  ];
}
