/**
 * Memory of the indexer while Elasticsearch is down and events keep arriving (issue 4: "report the
 * peak RSS during a 5-minute Elasticsearch outage"). The indexer runs in this process behind a
 * fault proxy that answers 503; a producer keeps writing ~300 B events; RSS and heap are sampled
 * every second. Then Elasticsearch comes back and the time to catch up is printed. Not a test.
 *
 *   npx tsx bench/indexer-outage.bench.ts [--outage-s 300] [--rate 2000]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { canonicalKey } from '../core/change-event';
import { createKafka, ensureTopics } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { EsFaultProxy } from '../e2e/support/es-fault-proxy';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { kafkajsClient } from '../core/kafkajs-client';

const stackEnv = path.join(__dirname, '..', '.stack', 'stack.env');
for (const line of fs.readFileSync(stackEnv, 'utf8').split('\n')) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { 'outage-s': { type: 'string', default: '300' }, rate: { type: 'string', default: '2000' } } });
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const prefix = `outage_${run}`;
  const index = `outage_idx_${run}`;
  const topic = `${prefix}.public.items`;
  const kafka = new Kafka({ clientId: 'outage-bench', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  await ensureTopics(kafkajsClient(kafka), [topic], 3);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const proxy = await new EsFaultProxy(process.env.ELASTICSEARCH_URL!).start();
  const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: `${prefix}_g`, ELASTICSEARCH_URL: proxy.url });
  const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table: 'items', fields: { title: { type: 'text', searchable: true }, notes: { type: 'text' }, n: { type: 'long' } } } } }));
  const es = new Client({ node: proxy.url });
  const indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'outage-bench', silentLogger), es, metrics: createIndexerMetrics(), log: silentLogger, onFatal: (e) => { throw e; } });
  await indexer.start();

  let sent = 0;
  let lsn = 1_000_000;
  const produce = async (seconds: number): Promise<void> => {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      const perTick = Math.round(Number(args.rate) / 10);
      const messages = Array.from({ length: perTick }, () => {
        lsn++;
        const e = { v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: String(lsn) }, after: { title: `t ${lsn}`, notes: 'x'.repeat(200), n: lsn }, lsn: String(lsn), commitLsn: String(lsn), txId: 1, ts: new Date().toISOString() };
        return { key: canonicalKey(e.key), value: JSON.stringify(e) };
      });
      await producer.send({ topic, acks: -1, messages });
      sent += perTick;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await produce(5);
  const baseline = process.memoryUsage();
  console.log(`before the outage: rss ${mb(baseline.rss)}, heap ${mb(baseline.heapUsed)}, ${sent} events sent`);
  proxy.failAll(503);
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 1000);
  const outageS = Number(args['outage-s']);
  for (let s = 0; s < outageS; s += 30) {
    await produce(Math.min(30, outageS - s));
    const m = process.memoryUsage();
    console.log(`outage +${s + Math.min(30, outageS - s)} s: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}, ${sent} events sent`);
  }
  clearInterval(sampler);
  await proxy.heal();
  const healed = Date.now();
  const direct = new Client({ node: process.env.ELASTICSEARCH_URL! });
  for (;;) {
    await direct.indices.refresh({ index });
    if ((await direct.count({ index })).count >= sent) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`outage ${outageS} s at ${args.rate} events/s: peak rss ${mb(peakRss)} (before ${mb(baseline.rss)}), peak heap ${mb(peakHeap)} (before ${mb(baseline.heapUsed)}); all ${sent} documents searchable ${((Date.now() - healed) / 1000).toFixed(1)} s after Elasticsearch came back`);
  await indexer.close();
  await producer.disconnect();
  await proxy.close();
  await es.close();
  await direct.indices.delete({ index: `${index}_v1` });
  await direct.indices.deleteIndexTemplate({ name: `search-pipeline-${index}` }, { ignore: [404] });
  await direct.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
