/**
 * Where the indexer's time goes: kafkajs consumption alone (no-op eachBatch) and decode + NDJSON
 * build of the same events, over a topic the main benchmark would use. Not a test.
 *   npx tsx bench/indexer-consume-probe.bench.ts [--docs 100000] [--bytes 300] [--fetch 1048576]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { parsePipelineConfig } from '../config/pipeline';
import { canonicalKey } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import { prepareBatch } from '../indexer/batch-processor';
import { chunkOps } from '../indexer/transform/chunk-ops';
import { bulkBody } from '../indexer/transform/to-bulk-ops';
import { kafkajsClient } from '../core/kafkajs-client';

const stackEnv = path.join(process.env.STACK_DIR ?? path.join(__dirname, '..', '.stack'), 'stack.env');
for (const line of fs.readFileSync(stackEnv, 'utf8').split('\n')) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { docs: { type: 'string', default: '100000' }, bytes: { type: 'string', default: '300' }, fetch: { type: 'string', default: '1048576' } } });

async function main(): Promise<void> {
  const n = Number(args.docs);
  const kafka = new Kafka({ clientId: 'probe', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const topic = `probe_${Date.now().toString(36)}.public.items`;
  await ensureTopics(kafkajsClient(kafka), [topic], 3);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const after = { title: `t ${i}`, notes: 'x'.repeat(Number(args.bytes) - 60), year: 1990, n: i };
    values.push(JSON.stringify({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: String(i) }, after, lsn: String(1e6 + i), commitLsn: String(1e6 + i), txId: 1, ts: new Date().toISOString() }));
  }
  for (let i = 0; i < n; i += 1000) await producer.send({ topic, acks: -1, messages: values.slice(i, i + 1000).map((value, j) => ({ key: canonicalKey({ id: String(i + j) }), value })) });
  await producer.disconnect();

  const spec = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: { title: { type: 'text', searchable: true }, notes: { type: 'text' }, year: { type: 'integer' }, n: { type: 'long' } } } } })).indexes;
  let bytes = 0;
  const cpuOf = (since: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(since);
    return ((c.user + c.system) / n).toFixed(2);
  };
  // As the indexer does it: a fetched batch prepared at once, its ops cut into bulk bodies.
  const messages = values.map((v, i) => ({ offset: String(i), value: Buffer.from(v) }));
  let cpu = process.cpuUsage();
  let t = performance.now();
  for (let i = 0; i < n; i += 4000) {
    for (const step of prepareBatch(topic, 0, messages.slice(i, i + 4000), spec).steps) {
      if ('ops' in step) for (const chunk of chunkOps(step.ops, 1000)) bytes += bulkBody(chunk).length;
    }
  }
  console.log(`decode + ndjson: ${(n / ((performance.now() - t) / 1000)).toFixed(0)} events/s, ${cpuOf(cpu)} µs CPU per event (${bytes} bytes)`);

  const consumer = kafka.consumer({ groupId: `${topic}_g`, maxWaitTimeInMs: 100, maxBytesPerPartition: Number(args.fetch) });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let started = 0;
  let batches = 0;
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 3, eachBatch: async ({ batch }) => {
    if (!started) {
      started = performance.now();
      cpu = process.cpuUsage();
    }
    batches++;
    seen += batch.messages.length;
    if (seen >= n) done();
  } });
  await finished;
  t = performance.now() - started;
  // CPU from the first batch on: fetching, decoding the record batches, the consumer's own loop.
  console.log(`kafkajs consume only (fetch ${args.fetch} B/partition): ${(n / (t / 1000)).toFixed(0)} msgs/s in ${batches} batches, ${cpuOf(cpu)} µs CPU per message`);
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
