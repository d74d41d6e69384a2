import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { dropPipelineObjects } from '../ingest/test-support/harness';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { freePort, startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { env, es, eventually, pg, uniqueName } from './support/services';

/**
 * Ingest and the indexer started before their broker is up (a compose stack where Kafka is slow
 * to start, or a broker restarting as they start) wait for it instead of exiting with "failed to
 * start". The seed broker they are given is a loopback port with nothing behind it; later a TCP
 * forwarder to the shared broker opens there. Once it does, the snapshot's rows reach the index.
 * (kafka-outage.e2e covers a broker going away once they run.)
 */
describe('Kafka not up yet when ingest and the indexer start', () => {
  const table = uniqueName('late');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const index = uniqueName('late');
  const elastic = es();
  let db: Client;
  let dir: string | undefined;
  let forwarder: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const services: RunningService[] = [];

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text NOT NULL)`);
    await db.query(`INSERT INTO ${table} SELECT i, 'row ' || i FROM generate_series(1, 50) i`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-late-'));
  });

  afterAll(async () => {
    for (const s of services) {
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-4000)}\n`);
    }
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (forwarder ? forwarder.close(() => r()) : r()));
    await dropSearchIndex(elastic, index);
    await elastic.close();
    await dropPipelineObjects(db, slot, [table]);
    await db.end();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('wait for the broker, saying so, and then carry the snapshot into the index', async () => {
    const pipelineFile = path.join(dir!, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { v: { type: 'text', searchable: true } } } } }));
    const seedPort = await freePort();
    const common = { PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: prefix, KAFKA_BROKERS: `127.0.0.1:${seedPort}`, TOPIC_PARTITIONS: '3', LOG_LEVEL: 'info' };
    const ingest = startService('ingest', { ...common, SLOT_NAME: slot, PUBLICATION_NAME: slot, INGEST_METRICS_PORT: '0', INGEST_HTTP_PORT: '0' });
    const indexer = startService('indexer', { ...common, INDEXER_GROUP_ID: uniqueName('g'), INDEXER_METRICS_PORT: '0' });
    services.push(ingest, indexer);

    // Both say they wait (kafkajs gives up on the seed broker after its own retries, ~20 s).
    await waitForOutput(ingest, "Kafka unavailable: ingest's start waits for it");
    await waitForOutput(indexer, "Kafka unavailable: the indexer's start waits for it");

    // The broker "comes up": its metadata names its own address, so only the seed goes through here.
    const [host, port] = env('KAFKA_BROKERS').split(',')[0]!.split(':') as [string, string];
    forwarder = net.createServer((client) => {
      const upstream = net.connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined).on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => forwarder!.once('error', reject).listen(seedPort, '127.0.0.1', () => resolve()));

    const docs = await eventually(async () => {
      const found = await allDocs(elastic, index).catch(() => undefined);
      return found?.size === 50 ? found : undefined;
    }, 'the snapshot in the index', 120_000);
    expect([...docs.values()].map((d) => (JSON.parse(d.source) as { v: string }).v).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `row ${i + 1}`).sort());
    expect(ingest.output()).toContain('ingest ready');
    expect(indexer.output()).toContain('indexer consuming');
    expect(ingest.child.exitCode).toBeNull();
    expect(indexer.child.exitCode).toBeNull();
  }, 300_000);
});
