/**
 * How busy the indexer keeps Elasticsearch: the share of wall time with at least one bulk request
 * in flight, and the indexer's CPU per document, from group join to the watermark at the last LSN.
 * Below 100 %, Elasticsearch idles while the indexer fetches or decodes. Not a test.
 *
 *   npx tsx bench/indexer-busy-probe.bench.ts [docs 150000] [bytes 300] [ENV=value,...]
 *
 * Needs the local stack and its env loaded (`set -a && . .stack/stack.env && set +a`); deletes
 * its topic, group and index afterwards.
 */
import { Client } from '@elastic/elasticsearch';
import { Partitioners } from 'kafkajs';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { canonicalKey } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import { createKafkajs, kafkajsClient } from '../core/kafkajs-client';
import { silentLogger } from '../core/logger';
import { readWatermark } from '../core/watermark-store';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { EsDocumentSink } from '../indexer/sink/es-document-sink';

const n = Number(process.argv[2] ?? 100000), bytes = Number(process.argv[3] ?? 300);
const extraEnv = Object.fromEntries((process.argv[4] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=')));
async function main() {
  const run = `probe_${Date.now().toString(36)}`;
  const topic = `${run}.public.items`;
  const kafka = createKafkajs(process.env.KAFKA_BROKERS!.split(','), 'probe', silentLogger);
  await ensureTopics(kafkajsClient(kafka), [topic], 3);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
  for (let i = 0; i < n; i += 1000) {
    const msgs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      let notes = ''; for (let w = j; notes.length < bytes - 90; w += 5) notes += `${words[w % 6]} `;
      const after = { title: `t ${j}`, notes, year: 1990, n: j };
      msgs.push({ key: canonicalKey({ id: String(j) }), value: JSON.stringify({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: String(j) }, after, lsn: String(1e6 + j), commitLsn: String(1e6 + j), txId: 1, ts: new Date().toISOString() }) });
    }
    await producer.send({ topic, acks: -1, messages: msgs });
  }
  const last = 1e6 + n;
  await producer.send({ topic, acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, key: null, value: JSON.stringify({ v: 1, op: 'h', source: { schema: 'public', table: 'items' }, key: {}, lsn: String(last), commitLsn: String(last), txId: 0, ts: new Date().toISOString() }) })) });
  await producer.disconnect();
  let inFlight = 0, busySince = 0, busy = 0, requests = 0;
  const orig = (EsDocumentSink.prototype as any).sendOnce;
  (EsDocumentSink.prototype as any).sendOnce = async function (ops: unknown[]) {
    if (inFlight++ === 0) busySince = performance.now();
    requests++;
    try { return await orig.call(this, ops); } finally { if (--inFlight === 0) busy += performance.now() - busySince; }
  };
  const index = `${run}_idx`;
  const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: run, INDEXER_GROUP_ID: `${run}_g`, ...extraEnv });
  const es = new Client({ node: process.env.ELASTICSEARCH_URL! });
  const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table: 'items', fields: { title: { type: 'text', searchable: true }, notes: { type: 'text', searchable: true }, year: { type: 'integer' }, n: { type: 'long' } } } } }));
  const indexer = createIndexer({ config, pipeline, kafka: kafkajsClient(kafka), es, metrics: createIndexerMetrics(), log: silentLogger, onFatal: (e) => { throw e; } });
  // Elasticsearch's own CPU for the same window: the two share this machine's cores.
  const esCpuMs = async () => Object.values((await es.nodes.stats({ metric: 'process' })).nodes).reduce((s, n) => s + (n.process?.cpu?.total_in_millis ?? 0), 0);
  let t0 = 0; let cpu0: NodeJS.CpuUsage | undefined; let esCpu0: Promise<number> | undefined;
  indexer.group.onAssignment(() => { t0 ||= performance.now(); cpu0 ??= process.cpuUsage(); esCpu0 ??= esCpuMs(); });
  await indexer.start();
  for (;;) { const wm = await readWatermark(es, index, topic); if (wm && wm.lsn >= BigInt(last)) break; await new Promise((r) => setTimeout(r, 20)); }
  const secs = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
  const esCpuUs = ((await esCpuMs()) - (await esCpu0!)) * 1000;
  console.log(`${n} x ${bytes}B: ${(n / secs).toFixed(0)} docs/s, ES busy ${(busy / 10 / secs).toFixed(0)} % of ${secs.toFixed(2)} s, ${requests} bulks, indexer CPU ${((cpu.user + cpu.system) / n).toFixed(1)} µs/doc (${((cpu.user + cpu.system) / 1e6 / secs * 100).toFixed(0)} % of a core), Elasticsearch CPU ${(esCpuUs / n).toFixed(1)} µs/doc (${(esCpuUs / 1e6 / secs * 100).toFixed(0)} % of a core)`);
  await indexer.close();
  await es.indices.delete({ index: `${index}_v1` }, { ignore: [404] });
  await es.indices.deleteIndexTemplate({ name: `search-pipeline-${index}` }, { ignore: [404] });
  const admin = kafka.admin(); await admin.connect(); await admin.deleteTopics({ topics: [topic] }).catch(() => undefined); await admin.deleteGroups([`${run}_g`]).catch(() => undefined); await admin.disconnect();
  await es.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
