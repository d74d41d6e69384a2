import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import type { Client } from 'pg';
import { kafkajsSecurity } from '../core/kafkajs-client';
import { ensureTopics } from '../core/kafka';
import { isKafkaUnavailable } from '../core/kafka-unavailable';
import { confirmedLsn, currentWalLsn, dropPipelineObjects } from '../ingest/test-support/harness';
import { encodeRecordBatch } from '../ingest/sink/wire/record-batch';
import { kafkajsCluster } from '../core/kafkajs-cluster';
import { clusterLayout, WireProducer } from '../ingest/sink/wire/wire-producer';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { startPrivateKafkaCluster, type PrivateKafkaCluster } from './support/private-kafka-cluster';
import { startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { es, eventually, pg, uniqueName } from './support/services';
import { kafkajsClient } from '../core/kafkajs-client';
import type { StatusReport } from '../scripts/status/model';

/**
 * docs/reliability.md #21, the Kafka part: a private 3-node KRaft cluster, the pipeline's topics
 * created by the pipeline itself (replication factor 3, min.insync.replicas 2 picked from the
 * cluster), and the broker leading most of the table topic's partitions SIGKILLed under
 * continuous writes, then restarted. Ingest and the indexer never exit, and afterwards the index
 * equals the table: nothing lost, nothing stale, nothing extra.
 *
 * The cluster's clients reach it over SASL_SSL only (docs/scaling.md "Kafka: TLS and SASL"):
 * TLS with the test's CA and a client certificate, SCRAM-SHA-512 for ingest (its kafkajs admin
 * and its own change-data producer), the indexer and the test's admin client.
 */
describe('a 3-broker Kafka cluster losing its partition leader under writes', () => {
  const table = uniqueName('kcluster');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const topic = `${prefix}.public.${table}`;
  const index = uniqueName('kcluster');
  const elastic = es();
  let db: Client;
  let writerDb: Client;
  let cluster: PrivateKafkaCluster | undefined;
  let ingest: RunningService | undefined;
  let indexer: RunningService | undefined;
  let dir: string | undefined;
  const kafkaOf = (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' = 'scram-sha-512') =>
    new Kafka({ clientId: 'tests', brokers: cluster!.brokers.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 10_000, ...kafkajsSecurity(cluster!.secured!.security(mechanism)) });

  beforeAll(async () => {
    db = await pg();
    writerDb = await pg();
    cluster = await startPrivateKafkaCluster(3, { secured: true });
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-cluster-'));
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { v: { type: 'text', searchable: true }, n: { type: 'integer' } } } } }));
    const common = { PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: prefix, KAFKA_BROKERS: cluster.brokers, TOPIC_PARTITIONS: '3', LOG_LEVEL: 'info', ...cluster.secured!.env('scram-sha-512') };
    ingest = startService('ingest', { ...common, SLOT_NAME: slot, PUBLICATION_NAME: slot, INGEST_HEARTBEAT_INTERVAL_MS: '200' });
    indexer = startService('indexer', { ...common, INDEXER_GROUP_ID: uniqueName('g') });
    await eventually(async () => ((await db.query(`SELECT 1 FROM search_pipeline_snapshot WHERE slot_name = $1 AND done`, [slot]).catch(() => ({ rowCount: 0 }))).rowCount ? true : undefined), 'ingest streaming', 120_000);
    await waitForOutput(indexer, 'indexer consuming', 120_000);
  }, 300_000);

  afterAll(async () => {
    for (const s of [ingest, indexer]) {
      if (!s) continue;
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-4000)}\n`);
    }
    await dropSearchIndex(elastic, index);
    await elastic.close();
    await cluster?.destroy();
    await dropPipelineObjects(db, slot, [table]);
    await writerDb.end();
    await db.end();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ingest\'s own producer logs in with PLAIN and SCRAM-SHA-256 too, and is refused, for good and saying why, with a wrong password or without the CA', async () => {
    const probe = uniqueName('kcluster_probe');
    await ensureTopics(kafkajsClient(kafkaOf()), [probe], 1);
    const batch = [{ topic: probe, partition: 0, records: encodeRecordBatch([{ key: 'k', value: 'v' }]) }];
    const send = async (security: ReturnType<NonNullable<PrivateKafkaCluster['secured']>['security']>) => {
      const p = new WireProducer(clusterLayout(() => kafkajsCluster(kafkaOf())), { clientId: 'tests', security });
      try {
        return await p.send(batch).then(() => 'acked', (e: Error) => e);
      } finally {
        await p.close();
      }
    };
    const s = cluster!.secured!;
    expect(await send(s.security('plain'))).toBe('acked');
    expect(await send(s.security('scram-sha-256'))).toBe('acked');
    const wrongPassword = await send({ ...s.security('scram-sha-512'), sasl: { mechanism: 'scram-sha-512', username: s.user.name, password: 'wrong' } });
    expect(wrongPassword).toMatchObject({ name: 'KafkaSecurityRejected', message: expect.stringMatching(/refused the SASL SCRAM-SHA-512 login of user "pipeline": .*SASL_AUTHENTICATION_FAILED.*KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/) });
    const { ca: _ca, ...withoutCa } = s.security('scram-sha-512').tls!;
    const untrusted = await send({ ...s.security('scram-sha-512'), tls: withoutCa });
    expect(untrusted).toMatchObject({ name: 'KafkaSecurityRejected', message: expect.stringMatching(/certificate does not verify .*KAFKA_TLS_CA_FILE/) });
    expect([wrongPassword, untrusted].map(isKafkaUnavailable)).toEqual([false, false]);
  }, 120_000);

  it('keeps writing through the loss and ends with the index equal to the table', async () => {
    const kafka = kafkaOf();
    const admin = kafka.admin();
    await admin.connect();
    let writing = true;
    let writes = 0;
    const live: number[] = [];
    let nextId = 1;
    const writer = (async () => {
      while (writing) {
        const id = nextId++;
        await writerDb.query(`INSERT INTO ${table} VALUES ($1, $2, 0)`, [id, `row ${id}`]);
        live.push(id);
        const pick = live[Math.floor(Math.random() * live.length)]!;
        if (writes % 5 === 4) await writerDb.query(`DELETE FROM ${table} WHERE id = $1`, [pick]);
        else await writerDb.query(`UPDATE ${table} SET v = $2, n = n + 1 WHERE id = $1`, [pick, `update ${writes}`]);
        writes++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      // The pipeline created its topic replicated on every broker, two in sync required.
      const meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!;
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }] });
      expect(meta.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('2');

      const flowing = await currentWalLsn(db);
      await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= flowing ? true : undefined), 'ingest confirming', 60_000);
      const leaders = new Map<number, number>();
      for (const p of meta.partitions) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
      const victim = [...leaders].sort((a, b) => b[1] - a[1])[0]![0];
      const writesBefore = writes;
      await cluster!.stop(victim, 'SIGKILL');
      const killedAt = Date.now();
      // The stream keeps being confirmed on the two brokers left (acks=all with 2 in sync).
      const during = await currentWalLsn(db);
      await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= during ? true : undefined), 'ingest confirming without the killed leader', 120_000);
      const confirmingAfterMs = Date.now() - killedAt;
      await new Promise((r) => setTimeout(r, 5_000));
      expect([ingest!.child.exitCode, indexer!.child.exitCode]).toEqual([null, null]);
      await cluster!.start(victim);
      await new Promise((r) => setTimeout(r, 3_000));
      writing = false;
      await writer;

      const end = await currentWalLsn(db);
      await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= end ? true : undefined), 'slot confirmed past the last write', 120_000);
      const rows = new Map((await db.query<{ id: number; v: string; n: number }>(`SELECT id, v, n FROM ${table}`)).rows.map((r) => [String(r.id), JSON.stringify({ v: r.v, n: r.n })]));
      let last: string[] = [];
      await eventually(async () => {
        const docs = await allDocs(elastic, index);
        last = [
          ...[...rows].filter(([id, src]) => docs.get(id)?.source !== src).map(([id]) => `missing or stale ${id}`),
          ...[...docs.keys()].filter((id) => !rows.has(id)).map((id) => `extra ${id}`),
        ];
        return last.length === 0 ? true : undefined;
      }, 'the index equal to the table', 180_000).catch(() => undefined);
      process.stdout.write(`kafka-cluster: killed broker ${victim} (leader of ${leaders.get(victim)} of 3 partitions) after ${writesBefore} writes; ingest confirming again ${confirmingAfterMs} ms after the kill; ${writes} writes, ${rows.size} rows; ${last.length} documents differ${last.length ? ` (${last.slice(0, 5).join(', ')})` : ''}\n`);
      expect([ingest!.child.exitCode, indexer!.child.exitCode]).toEqual([null, null]);
      expect(last.slice(0, 10)).toEqual([]);
    } finally {
      writing = false;
      await writer.catch(() => undefined);
      await admin.disconnect();
    }
  }, 600_000);

  it('lets the operator tools in with the same TLS and SASL settings: the status reaches Kafka and reads the dead letters', async () => {
    const deadLetters = `${prefix}.dead-letters`;
    const producer = kafkaOf().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: deadLetters, acks: -1, messages: [{ key: null, value: JSON.stringify({ stage: 'indexer', errorType: 'mapper_parsing_exception', reason: 'parked by the test', index, id: '1', topic, partition: 0, offset: '0', payload: '{}' }) }] });
    } finally {
      await producer.disconnect();
    }
    const env = { PIPELINE_CONFIG: path.join(dir!, 'pipeline.json'), TOPIC_PREFIX: prefix, KAFKA_BROKERS: cluster!.brokers, INDEXER_GROUP_ID: 'unused-group', STATUS_TIMEOUT_MS: '20000', ...cluster!.secured!.env('scram-sha-512') };
    for (const k of ['DATABASE_URL', 'ELASTICSEARCH_URL', 'REDIS_URL', 'API_URL', 'INGEST_METRICS_PORT', 'INDEXER_METRICS_PORT', 'API_REDIS_URL']) (env as Record<string, string>)[k] = '';
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'status.ts'), '--json', '--dead-letters', '1'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(run.stdout) as StatusReport;
    expect(report.infra.kafka).toMatchObject({ health: 'ok' });
    expect(report.deadLetters).toMatchObject({ count: 1, recent: [expect.objectContaining({ reason: 'parked by the test', index })] });
  }, 180_000);
});
