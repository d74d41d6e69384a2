/**
 * The demo's load as `npm start` does it (scripts/start.ts), measured on the shared stack without
 * starting one: the MAME software lists inserted into the flat table and the split tables while
 * ingest and the indexer run, in this process, on a schema, slot, topics and indexes of their own
 * (config/pipelines/demo.json, its tables moved to that schema). Not a test.
 *
 *   npx tsx bench/demo-load.bench.ts [--records 30000] [--batchRows 1000]
 *
 * Prints, every second, the documents of each index and the joined rebuilds; at the end, the
 * seconds from the first insert until each index holds every row (its watermark past the WAL
 * position after the load), the pipeline's CPU and Elasticsearch's. Everything created is dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { loadStackConfig } from '../config/stack-config';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { parseLsn } from '../core/lsn';
import { readWatermark } from '../core/watermark-store';
import { dropSearchIndex, dropStateDocs } from '../e2e/support/indexer-harness';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { dropPipelineObjects, startIngestInProcess } from '../ingest/test-support/harness';
import { ensureMameHashDir } from '../stack/datasets/mame-download';
import { createTableSql, loadMameDemo, quoteTableName } from '../stack/datasets/mame-load';
import { parseMameRecords } from '../stack/datasets/mame-parse';
import { mameParents } from '../stack/datasets/mame-split';
import { cpuSeconds, stackPid } from './proc-stats';

const stack = loadStackConfig();
const stackEnv = path.join(stack.stackDir, 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { records: { type: 'string', default: '30000' }, batchRows: { type: 'string', default: '1000' } } });
const RECORDS = Number(args.records);
const run = Date.now().toString(36);
const SCHEMA = `bd_${run}`;
const prefix = `bd_${run}`;
const say = (m: string): void => void process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '?');

async function* firstRecords<T>(it: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  let i = 0;
  for await (const x of it) {
    if (i++ >= n) return;
    yield x;
  }
}

async function main(): Promise<void> {
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const es = new EsClient({ node: process.env.ELASTICSEARCH_URL! });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    // The demo config, each table moved to this run's schema and each index renamed.
    const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'config', 'pipelines', 'demo.json'), 'utf8')) as { indexes: Record<string, Record<string, unknown>> };
    const rename = (o: unknown): unknown => (Array.isArray(o) ? o.map(rename) : o && typeof o === 'object'
      ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'table' && typeof v === 'string' ? v.replace(/^public\./, `${SCHEMA}.`) : rename(v)])) : o);
    const indexes = Object.fromEntries(Object.entries(demo.indexes).map(([name, spec]) => [`${prefix}_${name}`, rename(spec)]));
    const json = JSON.stringify({ version: 1, indexes });
    const pipeline = parsePipelineConfig(json);
    const [flatIndex, joinedIndex] = [`${prefix}_software`, `${prefix}_titles`];
    const tables = ['software', 'software_lists', 'publishers', 'titles', 'parts'].map((t) => `${SCHEMA}.${t}`);

    await db.query(`CREATE SCHEMA ${SCHEMA}`);
    cleanups.push(() => db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`));
    await db.query(createTableSql(quoteTableName(`${SCHEMA}.software`)));
    const hashDir = await ensureMameHashDir(stack.cacheDir, say);
    const parents = await mameParents(firstRecords(parseMameRecords(hashDir), RECORDS));
    // The split tables are created by loadMameDemo; the indexer checks them at start, so create them first.
    await loadMameDemo(db, firstRecords(parseMameRecords(hashDir), 0), { software: `${SCHEMA}.software`, splitSchema: SCHEMA });

    const slot = prefix;
    const { ingest, fatal } = startIngestInProcess(tables, { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '100', INGEST_FLUSH_INTERVAL_MS: '20' }, { pipeline: json });
    const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: `${prefix}_g` });
    const metrics = createIndexerMetrics();
    const indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'bench', silentLogger), es, metrics, log: silentLogger, onFatal: (e) => void fatal.push(e) });
    const topics = tables.map((t) => `${prefix}.${t}`);
    cleanups.push(async () => {
      await indexer.close().catch(() => undefined);
      await ingest.close().catch(() => undefined);
      await dropPipelineObjects(db, slot, []);
      const admin = new Kafka({ clientId: 'bench', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteGroups([`${prefix}_g`]).catch(() => undefined);
      await admin.deleteTopics({ topics: [...topics, `${prefix}.dead-letters`] }).catch(() => undefined);
      await admin.disconnect();
      for (const i of [flatIndex, joinedIndex]) {
        await dropSearchIndex(es, i);
        await dropStateDocs(es, i).catch(() => undefined);
      }
    });
    await ingest.start();
    await indexer.start();
    await ingest.snapshotDone();

    const ES_PID = stackPid('elasticsearch');
    const [cpu0, es0] = [process.cpuUsage(), cpuSeconds(ES_PID).process];
    const started = performance.now();
    const sum = async (m: { get: () => Promise<{ values: { value: number }[] }> }) => (await m.get()).values.reduce((a, v) => a + v.value, 0);
    const count = async (index: string) => (await es.count({ index }).catch(() => ({ count: NaN }))).count;
    const trace = setInterval(() => void (async () => {
      say(`  +${f((performance.now() - started) / 1000, 1)} s: ${flatIndex} ${await count(flatIndex)}, ${joinedIndex} ${await count(joinedIndex)} documents; rebuilt ${await sum(metrics.joinRebuilds)}; messages in flight ${await sum(metrics.inFlightMessages)}`);
    })(), 1000);
    const loaded = await loadMameDemo(db, firstRecords(parseMameRecords(hashDir), RECORDS), { software: `${SCHEMA}.software`, splitSchema: SCHEMA, parents }, { batchRows: Number(args.batchRows) });
    const loadSecs = (performance.now() - started) / 1000;
    const target = parseLsn((await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn);
    const caughtUp: Record<string, number> = {};
    const topicsOf = (index: string) => topics.filter((t) => index === joinedIndex ? !t.endsWith('.software') : t.endsWith('.software'));
    while (Object.keys(caughtUp).length < 2) {
      if (fatal.length) throw new Error(`pipeline failed: ${String(fatal[0])}`);
      for (const index of [flatIndex, joinedIndex]) {
        if (caughtUp[index] !== undefined) continue;
        const wms = await Promise.all(topicsOf(index).map((t) => readWatermark(es, index, t).catch(() => undefined)));
        if (wms.every((w) => w && w.lsn >= target)) caughtUp[index] = (performance.now() - started) / 1000;
      }
      await sleep(50);
    }
    clearInterval(trace);
    const cpu = process.cpuUsage(cpu0);
    const esCpu = cpuSeconds(ES_PID).process - es0;
    const rebuilds = await sum(metrics.joinRebuilds);
    say(`loaded ${Object.entries(loaded).map(([t, n]) => `${t} ${n}`).join(', ')} in ${f(loadSecs, 1)} s`);
    say(`${flatIndex}: all ${await count(flatIndex)} searchable after ${f(caughtUp[flatIndex]!, 1)} s; ${joinedIndex}: all ${await count(joinedIndex)} after ${f(caughtUp[joinedIndex]!, 1)} s; ${rebuilds} rebuilds (${f(rebuilds / loaded.titles, 2)} per title); pipeline CPU ${f((cpu.user + cpu.system) / 1e6, 1)} s, Elasticsearch ${f(esCpu, 1)} s`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => say(`cleanup failed: ${String(err)}`));
    await db.end();
    await es.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(() => process.exit());
