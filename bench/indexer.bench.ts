/**
 * Indexer throughput, Kafka to searchable, side by side with what this machine's Elasticsearch
 * takes from a tight loader and from `client.helpers.bulk` with its defaults. Not a test.
 *
 *   npx tsx bench/indexer.bench.ts [--docs300 100000] [--docs2k 30000] [--tight 1000x2,2000x4]
 *       [--indexer ,2000x4x3x4096x500x1s]   (indexer variants: batch x bulks in flight x partitions
 *                                          at once x fetch KB per partition x watermark interval ms x
 *                                          the index's own refresh_interval, set once the indexer
 *                                          started; empty = the configured defaults)
 *       [--poll-ms 100]                  (how often the watermark is read to see the end)
 *
 * Needs the local stack (`npm run stack:up`). Every run uses fresh topics and indexes and
 * deletes its indexes afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import pLimit from 'p-limit';
import { loadIndexerConfig } from '../config';
import { SERVICE_NODE_FLAGS } from '../config/service-runtime';
import { parsePipelineConfig, type IndexSpec } from '../config/pipeline';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { createKafka, ensureTopics } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { readWatermark } from '../core/watermark-store';
import { createIndexer } from '../indexer/indexer-service';
import { indexBody } from '../indexer/mappings';
import { createIndexerMetrics } from '../indexer/metrics';
import { cpuSeconds, stackPid } from './proc-stats';
import { kafkajsClient } from '../core/kafkajs-client';

// The indexer runs in this process, so this process takes the node flags the indexer service runs with.
const missingFlags = SERVICE_NODE_FLAGS.indexer.filter((f) => !process.execArgv.includes(f));
if (missingFlags.length) {
  const r = spawnSync(process.execPath, [...missingFlags, ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const stackEnv = path.join(process.env.STACK_DIR ?? path.join(__dirname, '..', '.stack'), 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { docs300: { type: 'string', default: '100000' }, docs2k: { type: 'string', default: '30000' }, indexer: { type: 'string', default: '' }, 'poll-ms': { type: 'string', default: '100' }, partitions: { type: 'string', default: '3' }, tight: { type: 'string', default: '500x2,1000x2,1000x4,2000x2,2000x4' } } });
const ES_URL = process.env.ELASTICSEARCH_URL!;
const BROKERS = process.env.KAFKA_BROKERS!.split(',');
const run = `${Date.now().toString(36)}`;
const FIELDS = { title: { type: 'text', searchable: true }, notes: { type: 'text', searchable: true }, year: { type: 'integer' }, n: { type: 'long' } };
const es = new Client({ node: ES_URL });

interface Row { id: string; lsn: bigint; doc: Record<string, unknown> }

/**
 * The stack's Elasticsearch and Kafka broker: what each contender costs the machine beside its own
 * process. With 2 cores shared by all of them, Elasticsearch's CPU per document bounds every
 * contender's rate.
 */
const ES_PID = stackPid('elasticsearch');
const BROKER_PID = stackPid('kafka');
const cpuOf = (pid: number | undefined): number => cpuSeconds(pid).process;
/** µs per document Elasticsearch and this process spent while `fn` ran. */
async function withCpu<T>(docs: number, fn: () => Promise<T>): Promise<{ value: T; es: number; self: number }> {
  const [es0, s0] = [cpuOf(ES_PID), process.cpuUsage()];
  const value = await fn();
  const self = process.cpuUsage(s0);
  return { value, es: ((cpuOf(ES_PID) - es0) * 1e6) / docs, self: (self.user + self.system) / docs };
}
const us = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '?');

function makeRows(count: number, bytes: number): Row[] {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const title = `${words[i % 12]} ${words[(i * 7) % 12]} ${i}`;
    let notes = '';
    for (let w = i; notes.length < bytes - 90; w += 5) notes += `${words[w % 12]} `;
    rows.push({ id: String(i + 1), lsn: 1_000_000n + BigInt(i), doc: { title, notes, year: 1950 + (i % 70), n: i } });
  }
  return rows;
}

const ndjson = (index: string, rows: readonly Row[]) =>
  rows.map((r) => `{"index":{"_index":"${index}","_id":"${r.id}","version":${r.lsn},"version_type":"external_gte"}}\n${JSON.stringify(r.doc)}\n`).join('');

/**
 * The loaders' index refreshes itself every second (what the indexer's indexes did before their
 * indexer took refreshing over, indexer/mappings.ts BACKSTOP_REFRESH_INTERVAL): the baseline the
 * indexer's own refreshes are held to.
 */
async function freshIndex(spec: IndexSpec, name: string): Promise<void> {
  const body = indexBody(spec);
  await es.indices.create({ index: name, settings: { ...body.settings, refresh_interval: '1s' }, mappings: body.mappings });
}

/** (a) the ceiling: pre-built NDJSON bodies from memory, fixed batch size and requests in flight. */
async function tightLoader(spec: IndexSpec, rows: readonly Row[], batch: number, concurrency: number): Promise<number> {
  const index = `bench_tight_${run}_${batch}x${concurrency}_${rows.length}`;
  await freshIndex(spec, index);
  const bodies: string[] = [];
  for (let i = 0; i < rows.length; i += batch) bodies.push(ndjson(index, rows.slice(i, i + batch)));
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(bodies.map((body) => limit(async () => {
    const res = (await es.bulk({ body } as never)) as unknown as { errors: boolean };
    if (res.errors) throw new Error('tight loader: item errors');
  })));
  await es.indices.refresh({ index });
  const secs = (performance.now() - started) / 1000;
  await checkCount(index, rows.length);
  lastRefreshes = await refreshStats(index);
  await es.indices.delete({ index });
  return rows.length / secs;
}

/** (b) `client.helpers.bulk` with its defaults. */
async function helperBulk(spec: IndexSpec, rows: readonly Row[]): Promise<number> {
  const index = `bench_helper_${run}_${rows.length}`;
  await freshIndex(spec, index);
  const started = performance.now();
  const result = await es.helpers.bulk({ datasource: [...rows], onDocument: (r) => [{ index: { _index: index, _id: r.id } }, r.doc] as never });
  await es.indices.refresh({ index });
  const secs = (performance.now() - started) / 1000;
  if (result.failed) throw new Error(`helpers.bulk: ${result.failed} failed`);
  await checkCount(index, rows.length);
  await es.indices.delete({ index });
  return rows.length / secs;
}

/** The indexer: events pre-produced to Kafka; timed from joining the group to the watermark at the last LSN. */
/** CPU this process spent in the indexer's timed window, per document (the machine has 2 cores, shared with Elasticsearch). */
let lastCpuUsPerDoc = 0;
/** Elasticsearch's and the broker's CPU in the same window, per document. */
let lastPeerUsPerDoc = { es: NaN, broker: NaN };

async function pipeline(rows: readonly Row[], variant: Record<string, string>, label: string, indexRefresh?: string): Promise<number> {
  const prefix = `bench_${run}_${label}`;
  const index = `bench_idx_${run}_${label}`;
  const topic = `${prefix}.public.items`;
  const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const partitions = Number(args.partitions);
  await ensureTopics(kafkajsClient(kafka), [topic], partitions);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const event = (r: Row): ChangeEvent => ({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: r.id }, after: r.doc, lsn: r.lsn.toString(), commitLsn: r.lsn.toString(), txId: 1, ts: new Date().toISOString() });
  for (let i = 0; i < rows.length; i += 1000) {
    await producer.send({ topic, acks: -1, messages: rows.slice(i, i + 1000).map((r) => ({ key: canonicalKey({ id: r.id }), value: JSON.stringify(event(r)) })) });
  }
  const last = rows[rows.length - 1]!.lsn + 1n;
  const hb: ChangeEvent = { v: 1, op: 'h', source: { schema: 'public', table: 'items' }, key: {}, lsn: last.toString(), commitLsn: last.toString(), txId: 0, ts: new Date().toISOString() };
  await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, key: null, value: JSON.stringify(hb) })) });
  await producer.disconnect();

  const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: `${prefix}_g`, ...variant });
  const spec = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table: 'items', fields: FIELDS } } }));
  const client = new Client({ node: ES_URL });
  const indexer = createIndexer({ config, pipeline: spec, kafka: createKafka(config.kafkaBrokers, 'bench', silentLogger), es: client, metrics: createIndexerMetrics(), log: silentLogger, onFatal: (e) => { throw e; } });
  let joinedAt = 0;
  let cpuAtJoin: NodeJS.CpuUsage | undefined;
  let peersAtJoin = { es: NaN, broker: NaN };
  indexer.group.onAssignment(() => {
    joinedAt ||= performance.now();
    if (!cpuAtJoin) peersAtJoin = { es: cpuOf(ES_PID), broker: cpuOf(BROKER_PID) };
    cpuAtJoin ??= process.cpuUsage();
  });
  await indexer.start();
  // The index's own periodic refresh on top of the indexer's, as before the indexer took refreshing over.
  if (indexRefresh) await client.indices.putSettings({ index, settings: { refresh_interval: indexRefresh } });
  for (;;) {
    const wm = await readWatermark(client, index, topic);
    if (wm && wm.lsn >= last) break;
    // Not too often: this process's CPU is the indexer's figure, and each read is a request.
    await new Promise((r) => setTimeout(r, Number(args['poll-ms'])));
  }
  const secs = (performance.now() - joinedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtJoin);
  lastCpuUsPerDoc = (cpu.user + cpu.system) / rows.length;
  lastPeerUsPerDoc = { es: ((cpuOf(ES_PID) - peersAtJoin.es) * 1e6) / rows.length, broker: ((cpuOf(BROKER_PID) - peersAtJoin.broker) * 1e6) / rows.length };
  await indexer.close();
  await checkCount(index, rows.length);
  lastRefreshes = await refreshStats(index);
  await es.indices.delete({ index: `${index}_v1` });
  await es.indices.deleteIndexTemplate({ name: `search-pipeline-${index}` }, { ignore: [404] });
  await client.close();
  return rows.length / secs;
}

/**
 * Refreshes the index went through (its own periodic ones and requested ones) and segments merged:
 * what the watermark's refreshes cost Elasticsearch, counted rather than timed, so it holds on a
 * loaded machine where CPU per document moves with every other user of the node.
 */
let lastRefreshes = { refreshes: 0, merges: 0 };
async function refreshStats(index: string): Promise<{ refreshes: number; merges: number }> {
  const res = (await es.indices.stats({ index, metric: ['refresh', 'merge'] })) as unknown as { _all: { primaries: { refresh?: { total?: number }; merges?: { total?: number } } } };
  return { refreshes: res._all.primaries.refresh?.total ?? NaN, merges: res._all.primaries.merges?.total ?? NaN };
}

async function checkCount(index: string, expected: number): Promise<void> {
  const { count } = await es.count({ index });
  if (count !== expected) throw new Error(`${index}: ${count} documents, expected ${expected}`);
}

async function main(): Promise<void> {
  const spec = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { bench: { table: 'items', fields: FIELDS } } })).indexes[0]!;
  // batch x bulks in flight x partitions at once x fetch KB per partition x watermark interval ms x the index's refresh_interval
  const variants = args.indexer!.split(',').map((v) => {
    const [batch, conc, parts, fetchKb, watermarkMs, indexRefresh] = v.split('x');
    return {
      label: v,
      indexRefresh,
      env: {
        ...(batch ? { INDEXER_BATCH_MAX_DOCS: batch } : {}),
        ...(conc ? { INDEXER_CONCURRENCY: conc } : {}),
        ...(parts ? { INDEXER_PARTITIONS_CONCURRENCY: parts } : {}),
        ...(fetchKb ? { INDEXER_FETCH_MAX_BYTES_PER_PARTITION: String(Number(fetchKb) * 1024) } : {}),
        ...(watermarkMs ? { INDEXER_WATERMARK_INTERVAL_MS: watermarkMs } : {}),
      },
    };
  });
  const table: Array<Record<string, string>> = [];
  for (const [label, count, bytes] of [['~300 B', Number(args.docs300), 300], ['~2 KB', Number(args.docs2k), 2000]] as const) {
    const rows = makeRows(count, bytes);
    const size = Math.round(rows.slice(0, 100).reduce((s, r) => s + JSON.stringify(r.doc).length, 0) / 100);
    // Elasticsearch's JIT and caches warm up on a small load first, so the first contender is not the slow one.
    await tightLoader(spec, rows.slice(0, Math.min(rows.length, 20_000)), 1000, 2);
    let best = { rate: 0, how: '', es: NaN, self: NaN };
    for (const [batch, conc] of args.tight!.split(',').map((v) => v.split('x').map(Number) as [number, number])) {
      const { value: rate, es: esUs, self } = await withCpu(count, () => tightLoader(spec, rows, batch, conc));
      process.stderr.write(`${label} tight ${batch}x${conc}: ${rate.toFixed(0)} docs/s (Elasticsearch ${us(esUs)} µs/doc, loader ${us(self)}; ${lastRefreshes.refreshes} refreshes, ${lastRefreshes.merges} merges)\n`);
      if (rate > best.rate) best = { rate, how: `${batch} docs x ${conc} in flight`, es: esUs, self };
    }
    const { value: helper, es: helperEs } = await withCpu(count, () => helperBulk(spec, rows));
    process.stderr.write(`${label} helpers.bulk: ${helper.toFixed(0)} docs/s (Elasticsearch ${us(helperEs)} µs/doc)\n`);
    // This process's JIT warms up on the indexer's code first, so the first variant is not the dearer one.
    if (!table.length) await pipeline(rows.slice(0, Math.min(rows.length, 20_000)), {}, `${bytes}_warmup`);
    for (const v of variants) {
      // Elasticsearch's and the broker's CPU from joining the group to the last watermark, like the rate.
      const rate = await pipeline(rows, v.env, `${bytes}_${v.label}`, v.indexRefresh);
      const { es: esUs, broker } = lastPeerUsPerDoc;
      process.stderr.write(`${label} indexer ${v.label}: ${rate.toFixed(0)} docs/s (Elasticsearch ${us(esUs)} µs/doc, indexer ${us(lastCpuUsPerDoc)}, broker ${us(broker)}; ${lastRefreshes.refreshes} refreshes, ${lastRefreshes.merges} merges)\n`);
      // What 80 % of the ceiling leaves for everything but Elasticsearch, on this machine's cores.
      const budget = (os.cpus().length * 1e6) / (0.8 * best.rate) - esUs;
      process.stderr.write(`${label}: at 80 % of the ceiling (${(0.8 * best.rate).toFixed(0)} docs/s) the ${os.cpus().length} cores leave ${us(budget)} µs/doc beside Elasticsearch's ${us(esUs)} for the indexer and the broker; the indexer alone spends ${us(lastCpuUsPerDoc)}\n`);
      table.push({
        docs: `${label} (${size} B source) x ${count}`,
        'indexer (Kafka → searchable)': `${rate.toFixed(0)} docs/s (${v.label || 'defaults'})`,
        'ceiling (tight loader)': `${best.rate.toFixed(0)} docs/s (${best.how})`,
        'helpers.bulk defaults': `${helper.toFixed(0)} docs/s`,
        'indexer / ceiling': `${((rate / best.rate) * 100).toFixed(0)} %`,
        'indexer / helper': `${(rate / helper).toFixed(2)}x`,
        'indexer CPU': `${lastCpuUsPerDoc.toFixed(1)} µs/doc`,
      });
    }
  }
  console.table(table);
  await es.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
