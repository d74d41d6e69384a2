import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildOnce, runMaven, type DownloadContext } from './download';
import { findJavaHome } from './java';
import { kafkaBrokerReady } from './kafka-probe';
import { localServiceDir, logFile } from './paths';
import { HOST } from './ports';
import { runCommand, spawnDetached } from './process';
import { LaunchError, port, type PreparedService, type ServiceContext, type ServiceDriver } from './service';
import { pidListensOn } from './sockets';
import type { ServicePorts } from './types';

export const KAFKA_VERSION = '3.9.2';

export const kafkaDriver: ServiceDriver = {
  name: 'kafka',
  portKeys: ['port', 'controllerPort'],
  stopSignal: 'SIGTERM',
  env: (ports) => ({ KAFKA_BROKERS: `${HOST}:${port(ports)}` }),
  prepare,
};

async function prepare(ctx: ServiceContext): Promise<PreparedService> {
  const javaHome = await findJavaHome(ctx.config, 'kafka');
  const libs = await ensureKafkaLibs({
    cacheDir: ctx.config.cacheDir,
    logPath: path.join(ctx.paths.logsDir, 'download.log'),
    log: ctx.log,
    javaHome,
    isRoot: ctx.config.isRoot,
  });
  const dir = localServiceDir(ctx.paths, 'kafka');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(dir, 'log4j.properties'), LOG4J);
  const java = path.join(javaHome, 'bin', 'java');
  const log = logFile(ctx.paths, 'kafka');
  const common = [`-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`, '-cp', path.join(libs, '*')];
  const serverProps = path.join(dir, 'server.properties');

  return {
    async launch(ports) {
      // Rewritten on every start: listeners are port-bound, and ports change when one got taken.
      fs.writeFileSync(serverProps, renderServerProperties(ports, data));
      if (!fs.existsSync(path.join(data, 'meta.properties'))) {
        ctx.log('kafka: formatting the KRaft storage');
        const r = await runCommand(java, [...common, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', serverProps, '--ignore-formatted']);
        fs.appendFileSync(log, r.output);
        if (r.code !== 0) throw new LaunchError(`kafka-storage format failed (exit ${r.code})`, r.output);
      }
      const child = await spawnDetached(java, ['-Xmx512m', '-Djava.awt.headless=true', ...common, 'kafka.Kafka', serverProps], log, { cwd: dir });
      return { pid: child.pid };
    },
    isReady: async (ports, pid) => pidListensOn(pid, port(ports)) && (await kafkaBrokerReady(port(ports))),
  };
}

/** The Kafka jars from the download cache (built with Maven on first use); also used by tests that run a private broker. */
export async function ensureKafkaLibs(ctx: DownloadContext): Promise<string> {
  const home = await buildOnce(path.join(ctx.cacheDir, `kafka-${KAFKA_VERSION}`), async (tmp) => {
    fs.writeFileSync(path.join(tmp, 'pom.xml'), POM);
    await runMaven('kafka', `Kafka ${KAFKA_VERSION} jars`, ['dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(tmp, 'libs')}`], tmp, ctx);
  });
  return path.join(home, 'libs');
}

export function renderServerProperties(ports: ServicePorts, dataDir: string): string {
  const p = port(ports);
  const c = port(ports, 'controllerPort');
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${c}`,
    `listeners=PLAINTEXT://${HOST}:${p},CONTROLLER://${HOST}:${c}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${p}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'auto.create.topics.enable=true',
    'num.partitions=1',
    // One broker: internal topics cannot have more replicas than that.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Tests create consumer groups constantly; the default 3 s delay is pure waiting here.
    'group.initial.rebalance.delay.ms=0',
  ].join('\n')}\n`;
}

/** Same shape as `kafka-storage random-uuid` (base64url of 16 bytes, never starting with '-'), minus a JVM start. */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-libs</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
  </dependencies></project>
`;

// To stderr: the storage tool prints its result on stdout, which a stdout appender would pollute.
export const LOG4J = `log4j.rootLogger=INFO, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
`;
