/**
 * Joined documents (docs/joined-documents.md) for the three-level model customers <- orders <-
 * items -> products: snapshot rate beside flat single-table documents of the same orders, a
 * sustained rate of child-row changes, commit-to-searchable latency at half that rate, the extra
 * Postgres reads per change, and the same on pgsync over the same tables and Elasticsearch. Not a test.
 *
 *   npx tsx bench/joined.bench.ts [--orders 20000] [--itemsPerOrder 5] [--customers 1000] [--products 500]
 *       [--writers 4] [--sustainSeconds 20] [--latencySeconds 30] [--probes 150] [--pgsync on|off] [--flat on|off]
 *       [--live on|off]
 *
 * Method. One schema per run holds the four tables (primary keys, indexes on the foreign keys),
 * loaded up front. Ours: ingest and the indexer in this process (as the e2e tests run them), each
 * contender with its own slot, topics and index.
 * - snapshot: from `ingest.start()` to the index's watermark on every topic of the index at the
 *   WAL position read once ingest's snapshot was in Kafka (everything up to it refreshed); the
 *   flat index (orders alone) is timed the same way on its own, before, and so are the same
 *   joined documents with items as `object`s instead of `nested` (pgsync's mapping of them). pgsync: from spawning
 *   `pgsync --config schema.json` (bootstrap done before, timed apart) to its exit and a refresh.
 * - sustained: `writers` connections write child-row changes as fast as they can for
 *   `sustainSeconds` (80 % items.qty updates, 20 % items.order_id moves to a random order), one
 *   statement per transaction; the rate is changes / (first write → caught up). Caught up: ours,
 *   the watermark past the WAL position after the last write; pgsync (no watermark), a final
 *   qty marker of every writer visible in a search.
 * - latency: the same mix paced at half the sustained rate; every so often a probe sets a unique
 *   qty on an item the load never touches. Commit time = the moment COMMIT returned to the writer
 *   (after the commit, by one loopback round trip); visible = the first search (one _msearch of
 *   all open probes every `pollMs`) that finds the marker: an upper bound, late by up to `pollMs`
 *   plus one search.
 * - Postgres load: pg_stat_user_tables deltas of the run's schema (scans, rows read) over the
 *   sustained window until caught up, minus what the writers' own statements read (measured
 *   first, on the same mix in a rolled-back transaction), per change. Queries: the indexer's
 *   pg.Pool queries, counted by wrapping Pool.prototype.query in this process (pgsync's cannot be
 *   counted without pg_stat_statements; its scans are).
 * Needs the local stack. Everything created (schema, slots, publications, topics, consumer
 * groups, indexes, watermark documents, pgsync's triggers, slot and Redis keys) is dropped.
 * pgsync runs from its own venv under ~/.cache/search-pipeline/pgsync-venv (created with pip when
 * missing), behind a loopback proxy answering `GET /` (this Elasticsearch refuses it).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { Client, Pool } from 'pg';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { SERVICE_NODE_FLAGS } from '../config/service-runtime';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { parseLsn } from '../core/lsn';
import { readWatermark } from '../core/watermark-store';
import { dropSearchIndex, dropStateDocs } from '../e2e/support/indexer-harness';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { dropPipelineObjects, startIngestInProcess } from '../ingest/test-support/harness';
import { cpuSeconds, stackPid } from './proc-stats';
import { minus, settledStats as pgSettledStats, type TableStats } from './pg-table-stats';
import { runPgsync } from './pgsync-run';
import { forkPipeline, servePipeline, type PipelineHandle, type PipelineRun, type Snapshot } from './pipeline-process';
import { latency, nestedMarker, objectMarker, probeWatcher, sustained, type Contender, type Workload } from './live-measure';
import { loadStackEnv } from './stack-env';

// The indexer runs in this process, so this process takes the node flags the indexer service runs with.
const missingFlags = SERVICE_NODE_FLAGS.indexer.filter((f) => !process.execArgv.includes(f));
if (missingFlags.length) {
  const r = spawnSync(process.execPath, [...missingFlags, ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

loadStackEnv();
const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '20000' }, itemsPerOrder: { type: 'string', default: '5' }, customers: { type: 'string', default: '1000' }, products: { type: 'string', default: '500' },
    writers: { type: 'string', default: '4' }, sustainSeconds: { type: 'string', default: '20' }, latencySeconds: { type: 'string', default: '30' }, probes: { type: 'string', default: '150' },
    pollMs: { type: 'string', default: '25' }, pgsync: { type: 'string', default: 'on' }, keep: { type: 'boolean', default: false },
    // `--live off`: the snapshots only (flat, joined, pgsync), for iterating on the snapshot path.
    live: { type: 'string', default: 'on' },
    // `--trace`: a line per second during our snapshots (documents rebuilt, messages in flight).
    trace: { type: 'boolean', default: false },
    // Skip the flat snapshot (--flat off) while iterating on the live path.
    flat: { type: 'string', default: 'on' },
    // Internal: the pipeline runs in a child process of the bench (`--role pipeline`), so the writers
    // and probes do not share its event loop.
    role: { type: 'string', default: 'main' }, run: { type: 'string', default: '' }, label: { type: 'string', default: '' },
  },
});
const ORDERS = Number(args.orders);
const PER_ORDER = Number(args.itemsPerOrder);
const ITEMS = ORDERS * PER_ORDER;
const CUSTOMERS = Number(args.customers);
const PRODUCTS = Number(args.products);
const WRITERS = Number(args.writers);
const POLL_MS = Number(args.pollMs);
const DATABASE_URL = process.env.DATABASE_URL!;
const ES_URL = process.env.ELASTICSEARCH_URL!;
const run = args.run || Date.now().toString(36);
const SCHEMA = `bj_${run}`;
const T = { customers: `${SCHEMA}.customers`, orders: `${SCHEMA}.orders`, items: `${SCHEMA}.items`, products: `${SCHEMA}.products` };
const say = (m: string): void => void process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const es = new EsClient({ node: ES_URL });
const kafka = new Kafka({ clientId: 'bench', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
const db = new Client({ connectionString: DATABASE_URL });
const cleanups: Array<{ what: string; fn: () => Promise<unknown> }> = [];
const ES_PID = stackPid('elasticsearch');

/**
 * The indexer's Postgres queries, counted on every pg.Pool of the pipeline process: the indexer's
 * join pool, and ingest's stream reads (relation descriptions, moved rows, and the re-snapshot
 * poll every 2 s), so the figure is an upper bound by a query per 2 s.
 */
let poolQueries = 0;
const poolQuery = Pool.prototype.query as unknown as (...a: unknown[]) => unknown;
(Pool.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: Pool, ...a: unknown[]) {
  poolQueries++;
  return poolQuery.apply(this, a);
};

// ---------------------------------------------------------------------------------------------
// Data and the workload

async function createData(): Promise<void> {
  await db.query(`CREATE SCHEMA ${SCHEMA}`);
  cleanups.push({ what: `schema ${SCHEMA}`, fn: () => db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`) });
  await db.query(`CREATE TABLE ${T.customers} (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL)`);
  await db.query(`CREATE TABLE ${T.products} (id int PRIMARY KEY, title text NOT NULL, category text NOT NULL)`);
  await db.query(`CREATE TABLE ${T.orders} (id int PRIMARY KEY, number text NOT NULL, customer_id int NOT NULL)`);
  await db.query(`CREATE TABLE ${T.items} (id int PRIMARY KEY, order_id int NOT NULL, product_id int NOT NULL, qty int NOT NULL)`);
  await db.query(`INSERT INTO ${T.customers} SELECT i, 'customer ' || i, (ARRAY['fr','de','it','es','nl','pl','se','pt'])[1 + i % 8] FROM generate_series(1, $1) i`, [CUSTOMERS]);
  await db.query(`INSERT INTO ${T.products} SELECT i, 'product ' || i || ' ' || (ARRAY['alpha','bravo','charlie','delta','echo','foxtrot'])[1 + i % 6], (ARRAY['toys','books','games','tools','music','garden'])[1 + i % 6] FROM generate_series(1, $1) i`, [PRODUCTS]);
  await db.query(`INSERT INTO ${T.orders} SELECT i, 'N-' || lpad(i::text, 8, '0'), 1 + (i::bigint * 7919) % $2 FROM generate_series(1, $1) i`, [ORDERS, CUSTOMERS]);
  // Items arrive with their order (contiguous ids per order), products spread over all of them.
  await db.query(`INSERT INTO ${T.items} SELECT i, 1 + (i - 1) / $2, 1 + (i::bigint * 104729) % $3, 1 + i % 9 FROM generate_series(1, $1) i`, [ITEMS, PER_ORDER, PRODUCTS]);
  await db.query(`CREATE INDEX ON ${T.items} (order_id)`);
  await db.query(`CREATE INDEX ON ${T.items} (product_id)`);
  await db.query(`CREATE INDEX ON ${T.orders} (customer_id)`);
  await db.query(`ANALYZE ${T.customers}, ${T.products}, ${T.orders}, ${T.items}`);
}

const rnd = (n: number): number => 1 + Math.floor(Math.random() * n);
/** An item the background load may change: every id but the multiples of 100, which probes own. */
const loadItem = (): number => {
  for (;;) {
    const id = rnd(ITEMS);
    if (id % 100 !== 0) return id;
  }
};
let nextProbeItem = 0;
let nextMarker = 10_000_000;
const probeTarget = (): { item: number; marker: number } => {
  nextProbeItem = (nextProbeItem % Math.floor(ITEMS / 100)) + 1;
  return { item: nextProbeItem * 100, marker: nextMarker++ };
};

/** One child-row change of the background mix: 80 % qty updates, 20 % foreign-key moves. */
async function change(c: Client): Promise<void> {
  if (Math.random() < 0.8) await c.query(`UPDATE ${T.items} SET qty = qty + 1 WHERE id = $1`, [loadItem()]);
  else await c.query(`UPDATE ${T.items} SET order_id = $2 WHERE id = $1`, [loadItem(), rnd(ORDERS)]);
}
/** A probe: a unique qty on an item only probes touch; resolves when COMMIT has returned. */
async function probeWrite(c: Client): Promise<{ marker: number; committedAt: number }> {
  const { item, marker } = probeTarget();
  await c.query(`UPDATE ${T.items} SET qty = $2 WHERE id = $1`, [item, marker]);
  return { marker, committedAt: performance.now() };
}

const settledStats = (): Promise<TableStats> => pgSettledStats(db, { schema: SCHEMA });
const workload: Workload = { es, pollMs: POLL_MS, change, probeWrite, settledStats };

/**
 * What the writers' own statements read per change (subtracted from every contender's figure):
 * the same mix, one transaction each, committed before any slot or trigger exists (so no
 * contender ever sees these changes; the snapshots copy the state they leave).
 */
async function writerReadsPerChange(n = 1000): Promise<TableStats> {
  const c = new Client({ connectionString: DATABASE_URL });
  await c.connect();
  const before = await settledStats();
  for (let i = 0; i < n; i++) await change(c);
  await c.end();
  const d = minus(await settledStats(), before);
  return { scans: d.scans / n, rows: d.rows / n, seqScans: d.seqScans / n, seqRows: d.seqRows / n, idxScans: d.idxScans / n, idxRows: d.idxRows / n };
}

async function writerPool(): Promise<Client[]> {
  const out: Client[] = [];
  for (let i = 0; i < WRITERS; i++) {
    const c = new Client({ connectionString: DATABASE_URL });
    await c.connect();
    out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ours: ingest and the indexer in this process

/** `nested`: items as a `nested` array (ours, the probes' query) or as `object`s (what pgsync's mapping gives them). */
const joinedPipeline = (index: string, nested = true) => ({
  version: 1,
  indexes: {
    [index]: {
      table: T.orders,
      fields: { number: { type: 'keyword', searchable: true } },
      relations: {
        customer: { table: T.customers, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true }, country: { type: 'keyword', filterable: true } } },
        items: {
          table: T.items, kind: 'one-to-many', on: { id: 'order_id' }, orderBy: [{ column: 'id' }], nested,
          fields: { qty: { type: 'integer' } },
          relations: { product: { table: T.products, kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text', searchable: true }, category: { type: 'keyword', filterable: true } } } },
        },
      },
    },
  },
});
const flatPipeline = (index: string) => ({ version: 1, indexes: { [index]: { table: T.orders, fields: { number: { type: 'keyword', searchable: true }, customer_id: { type: 'integer' } } } } });

async function startOurs(label: string, pipeline: object, tables: string[]): Promise<PipelineRun> {
  const slot = `bj_${run}_${label}`;
  const prefix = `bj_${run}_${label}`;
  const index = Object.keys((pipeline as { indexes: object }).indexes)[0]!;
  const topics = tables.map((t) => `${prefix}.${t}`);
  const groupId = `${prefix}_g`;
  const json = JSON.stringify(pipeline);
  const { ingest, fatal } = startIngestInProcess(tables, { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '1000', INGEST_FLUSH_INTERVAL_MS: '20' /* the service's defaults, not the harness's */ }, { pipeline: json });
  const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: groupId });
  const metrics = createIndexerMetrics();
  const client = new EsClient({ node: ES_URL });
  const indexer = createIndexer({ config, pipeline: parsePipelineConfig(json), kafka: createKafka(config.kafkaBrokers, 'bench', silentLogger), es: client, metrics, log: silentLogger, onFatal: (e) => void fatal.push(e) });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await indexer.close().catch(() => undefined);
    await ingest.close().catch(() => undefined);
    await dropPipelineObjects(db, slot, []);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [...topics, `${prefix}.dead-letters`] }).catch(() => undefined);
    await admin.disconnect();
    await dropSearchIndex(client, index);
    await dropStateDocs(client, index).catch(() => undefined);
    await client.close();
  };
  cleanups.push({ what: `pipeline ${label}`, fn: close });
  const caughtUp = async (): Promise<void> => {
    const target = parseLsn((await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn);
    const deadline = Date.now() + 900_000;
    for (;;) {
      if (fatal.length) throw new Error(`pipeline ${label} failed: ${String(fatal[0])}`);
      const wms = await Promise.all(topics.map((t) => readWatermark(client, index, t).catch(() => undefined)));
      if (wms.every((w) => w && w.lsn >= target)) return;
      if (Date.now() > deadline) throw new Error(`${label}: watermark not past ${target} after 900 s`);
      await sleep(50);
    }
  };

  const [cpu0, es0, q0] = [process.cpuUsage(), cpuSeconds(ES_PID).process, poolQueries];
  const started = performance.now();
  const trace = args.trace ? setInterval(() => void (async () => {
    const sum = async (m: { get: () => Promise<{ values: { value: number }[] }> }) => (await m.get()).values.reduce((a, v) => a + v.value, 0);
    say(`  ${label} +${f((performance.now() - started) / 1000, 1)} s: rebuilt ${await sum(metrics.joinRebuilds)}, bulk items ${await sum(metrics.docs)}, messages in flight ${await sum(metrics.inFlightMessages)}`);
  })(), 1000) : undefined;
  await ingest.start();
  await indexer.start();
  const startedSecs = (performance.now() - started) / 1000;
  await ingest.snapshotDone();
  const ingestSecs = (performance.now() - started) / 1000;
  await caughtUp();
  const secs = (performance.now() - started) / 1000;
  clearInterval(trace);
  const cpu = process.cpuUsage(cpu0);
  const esCpu = cpuSeconds(ES_PID).process - es0;
  const queries = poolQueries - q0;
  const rebuilds = (await metrics.joinRebuilds.get()).values.reduce((s, v) => s + v.value, 0);
  const { count } = await client.count({ index });
  if (count !== ORDERS) throw new Error(`${index}: ${count} documents after the snapshot, expected ${ORDERS}`);
  return { index, snapshot: { secs, startedSecs, ingestSecs, cpuUs: ((cpu.user + cpu.system) / ORDERS), esUs: (esCpu * 1e6) / ORDERS, queries, rebuilds }, caughtUp, close };
}

/** `n` random orders as SQL computes them against the joined index: documents that differ. */
async function sampleCheck(index: string, n = 300): Promise<{ checked: number; differ: number; example?: string }> {
  const ids = Array.from({ length: n }, () => rnd(ORDERS));
  const { rows } = await db.query<{ id: number; doc: unknown }>(`
    SELECT o.id, jsonb_build_object('number', o.number,
      'customer', (SELECT jsonb_build_object('name', c.name, 'country', c.country) FROM ${T.customers} c WHERE c.id = o.customer_id),
      'items', coalesce((SELECT jsonb_agg(jsonb_build_object('qty', i.qty, 'product', (SELECT jsonb_build_object('title', p.title, 'category', p.category) FROM ${T.products} p WHERE p.id = i.product_id)) ORDER BY i.id)
                 FROM ${T.items} i WHERE i.order_id = o.id), '[]'::jsonb)) AS doc
    FROM ${T.orders} o WHERE o.id = ANY($1)`, [ids]);
  const got = await es.mget<Record<string, unknown>>({ index, ids: rows.map((r) => String(r.id)) });
  const canon = (v: unknown): string => JSON.stringify(sortKeys(v));
  const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== '_refs').sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)])) : v);
  let differ = 0;
  let example: string | undefined;
  rows.forEach((r, i) => {
    const d = got.docs[i] as { _source?: unknown };
    if (canon(d?._source) !== canon(r.doc)) {
      differ++;
      example ??= `${r.id}: want ${canon(r.doc).slice(0, 300)} got ${canon(d?._source).slice(0, 300)}`;
    }
  });
  return { checked: rows.length, differ, example };
}

// ---------------------------------------------------------------------------------------------
// pgsync

/** pgsync's schema for the same nesting: order → customer (object), items (array) → product (object). */
const pgsyncSchema = (index: string) => [{
  database: new URL(DATABASE_URL).pathname.slice(1) || 'postgres',
  index,
  nodes: {
    table: 'orders', schema: SCHEMA, columns: ['number'],
    children: [
      { table: 'customers', schema: SCHEMA, columns: ['name', 'country'], label: 'customer', relationship: { variant: 'object', type: 'one_to_one', foreign_key: { child: ['id'], parent: ['customer_id'] } } },
      {
        table: 'items', schema: SCHEMA, columns: ['qty'], label: 'items', relationship: { variant: 'object', type: 'one_to_many', foreign_key: { child: ['order_id'], parent: ['id'] } },
        children: [{ table: 'products', schema: SCHEMA, columns: ['title', 'category'], label: 'product', relationship: { variant: 'object', type: 'one_to_one', foreign_key: { child: ['id'], parent: ['product_id'] } } }],
      },
    ],
  },
}];

// ---------------------------------------------------------------------------------------------

const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '?');
const ms = (n: number): string => `${f(n)} ms`;

// ---------------------------------------------------------------------------------------------
// The pipeline in a child process (`--role pipeline --label flat|object|joined`, pipeline-process.ts)

async function pipelineRole(): Promise<void> {
  await db.connect();
  const tables = [T.orders, T.customers, T.items, T.products];
  await servePipeline(() => (args.label === 'flat'
    ? startOurs('flat', flatPipeline(`bj_${run}_flat`), [T.orders])
    : args.label === 'object'
      ? startOurs('object', joinedPipeline(`bj_${run}_object`, false), tables)
      : startOurs('joined', joinedPipeline(`bj_${run}_joined`), tables)), () => poolQueries);
}

const pipelineChild = (label: 'flat' | 'object' | 'joined'): Promise<PipelineHandle> =>
  forkPipeline(__filename, [...process.argv.slice(2), '--role', 'pipeline', '--run', run, '--label', label], label, cleanups);

/**
 * Snapshot rows/s, ours over pgsync's: ours from ingest.start() (slot, topics, consumer group
 * included) against pgsync's run without its bootstrap (its triggers, slot and view), as the
 * issue's aim reads; then like for like, each without its set-up (ours after start returned) and
 * each with it (pgsync's bootstrap added).
 */
function snapshotRatios(s: Snapshot, so: Snapshot, pg: { snapshotSecs: number; bootstrapSecs: number }): string {
  return `snapshot rows/s ${f(pg.snapshotSecs / s.secs, 2)}x (items as objects ${f(pg.snapshotSecs / so.secs, 2)}x); without set-up ${f(pg.snapshotSecs / (s.secs - s.startedSecs), 2)}x, with it ${f((pg.snapshotSecs + pg.bootstrapSecs) / s.secs, 2)}x`;
}

async function main(): Promise<void> {
  await db.connect();
  say(`${ORDERS} orders x ${PER_ORDER} items (${ITEMS}), ${CUSTOMERS} customers, ${PRODUCTS} products; schema ${SCHEMA}`);
  const t = performance.now();
  await createData();
  const sourceRows = ORDERS + ITEMS + CUSTOMERS + PRODUCTS;
  say(`loaded ${sourceRows} rows in ${f((performance.now() - t) / 1000, 1)} s`);
  const writerReads = args.live === 'off' ? undefined! : await writerReadsPerChange();
  if (writerReads) say(`the writers' own statements read ${f(writerReads.scans, 2)} scans and ${f(writerReads.rows, 2)} rows per change (subtracted below; seq ${f(writerReads.seqRows, 2)}, index ${f(writerReads.idxRows, 2)})`);

  const results: Record<string, Record<string, string>> = {};
  // 1. snapshot, flat then joined
  const flat = args.flat === 'off' ? undefined : await pipelineChild('flat');
  if (flat) {
    say(`flat snapshot: ${f(flat.snapshot.secs, 1)} s (started ${f(flat.snapshot.startedSecs, 1)} s, ingest's snapshot in Kafka ${f(flat.snapshot.ingestSecs, 1)} s), ${f(ORDERS / flat.snapshot.secs)} docs/s, pipeline process ${f(flat.snapshot.cpuUs)} µs/doc, Elasticsearch ${f(flat.snapshot.esUs)} µs/doc`);
    await flat.close();
  }
  // --flat off: the flat figures print as NaN.
  const flatSnap = flat?.snapshot ?? { secs: NaN, cpuUs: NaN, esUs: NaN };
  // The same joined documents with items as objects (pgsync's mapping of them), snapshot only.
  const object = await pipelineChild('object');
  const checkObject = await sampleCheck(object.index);
  const so = object.snapshot;
  say(`joined snapshot, items as objects: ${f(so.secs, 1)} s, ${f(ORDERS / so.secs)} docs/s, ${f(sourceRows / so.secs)} source rows/s; pipeline process ${f(so.cpuUs)} µs/doc, Elasticsearch ${f(so.esUs)} µs/doc; sample ${checkObject.differ}/${checkObject.checked} differ from SQL ${checkObject.example ?? ''}`);
  await object.close();
  const ours = await pipelineChild('joined');
  const s = ours.snapshot;
  const check0 = await sampleCheck(ours.index);
  say(`joined snapshot: ${f(s.secs, 1)} s (started ${f(s.startedSecs, 1)} s, ingest's snapshot in Kafka ${f(s.ingestSecs, 1)} s), ${f(ORDERS / s.secs)} docs/s, ${f(sourceRows / s.secs)} source rows/s; ${f(s.rebuilds / ORDERS, 2)} rebuilds/doc, ${s.queries} indexer queries; pipeline process ${f(s.cpuUs)} µs/doc, Elasticsearch ${f(s.esUs)} µs/doc; sample ${check0.differ}/${check0.checked} differ from SQL ${check0.example ?? ''}`);
  results['snapshot docs/s'] = { flat: f(ORDERS / flatSnap.secs), ours: f(ORDERS / s.secs) };
  results['snapshot s'] = { flat: f(flatSnap.secs, 1), ours: f(s.secs, 1) };
  results['snapshot source rows/s'] = { flat: f(ORDERS / flatSnap.secs), ours: f(sourceRows / s.secs) };
  results['snapshot CPU µs/doc (pipeline | Elasticsearch)'] = { flat: `${f(flatSnap.cpuUs)} | ${f(flatSnap.esUs)}`, ours: `${f(s.cpuUs)} | ${f(s.esUs)}` };
  results['snapshot sample equal to SQL'] = { ours: `${check0.checked - check0.differ}/${check0.checked}` };
  results['items as objects: snapshot s | source rows/s | CPU µs/doc (pipeline | ES)'] = { ours: `${f(so.secs, 1)} | ${f(sourceRows / so.secs)} | ${f(so.cpuUs)} | ${f(so.esUs)}` };

  if (args.live === 'off') {
    await ours.close();
    if (args.pgsync !== 'off') {
      const pg = await runPgsync({ es, db, databaseUrl: DATABASE_URL, esUrl: ES_URL, esPid: ES_PID, index: `bj_${run}_pgsync`, schema: pgsyncSchema, documents: ORDERS, cleanups, say });
      say(`pgsync: bootstrap ${f(pg.bootstrapSecs, 1)} s; snapshot ${f(pg.snapshotSecs, 1)} s, ${f(ORDERS / pg.snapshotSecs)} docs/s, ${f(sourceRows / pg.snapshotSecs)} source rows/s; pgsync ${f(pg.selfUs)} µs/doc, Elasticsearch ${f(pg.esUs)} µs/doc`);
      results['snapshot source rows/s'].pgsync = f(sourceRows / pg.snapshotSecs);
      results['snapshot CPU µs/doc (pipeline | Elasticsearch)'].pgsync = `${f(pg.selfUs)} (pgsync) | ${f(pg.esUs)}`;
      results['ratio ours / pgsync'] = { ours: snapshotRatios(s, so, pg) };
      await pg.teardown();
    }
    results['ratio ours / flat (snapshot docs/s)'] = { ours: `${f(flatSnap.secs / s.secs, 2)}x` };
    console.table(results);
    return;
  }

  // 2. live, ours
  const writers = await writerPool();
  cleanups.push({ what: 'writers', fn: () => Promise.all(writers.map((w) => w.end())) });
  const oursC: Contender = { name: 'ours', index: ours.index, markerQuery: nestedMarker, caughtUp: () => ours.caughtUp(), queries: () => ours.queries() };
  const sus = await sustained(workload, oursC, writers, Number(args.sustainSeconds));
  const perChange = (st: TableStats, n: number) => {
    const d = (k: keyof TableStats) => st[k] / n - writerReads[k];
    return { scans: d('scans'), rows: d('rows'), detail: `seq ${f(d('seqScans'), 2)} scans ${f(d('seqRows'), 1)} rows, index ${f(d('idxScans'), 2)} scans ${f(d('idxRows'), 1)} rows` };
  };
  const load = perChange(sus.stats, sus.changes);
  say(`ours sustained: ${sus.changes} changes written in ${f(sus.writeSecs, 1)} s (${f(sus.writeRate)}/s), caught up after ${f(sus.totalSecs, 1)} s: ${f(sus.rate)} changes/s; per change ${f(sus.queries / sus.changes, 3)} indexer queries, ${f(load.scans, 2)} scans, ${f(load.rows, 1)} rows read (${load.detail})`);
  const lat = await latency(workload, oursC, writers, sus.rate / 2, Number(args.latencySeconds), Number(args.probes));
  say(`ours latency at ${f(lat.rate)}/s (achieved ${f(lat.achieved)}/s): ${lat.probes} probes p50 ${ms(lat.p50)} p90 ${ms(lat.p90)} p99 ${ms(lat.p99)} max ${ms(lat.max)}`);
  await ours.caughtUp();
  const check1 = await sampleCheck(ours.index);
  say(`after the live phase: sample ${check1.differ}/${check1.checked} differ from SQL ${check1.example ?? ''}`);
  results['sustained changes/s (written/s)'] = { ours: `${f(sus.rate)} (${f(sus.writeRate)})` };
  results['latency p50 / p99 at half rate'] = { ours: `${ms(lat.p50)} / ${ms(lat.p99)} at ${f(lat.achieved)}/s` };
  results['per change: queries | scans | rows read'] = { ours: `${f(sus.queries / sus.changes, 3)} | ${f(load.scans, 2)} | ${f(load.rows, 1)}` };
  results['live sample equal to SQL'] = { ours: `${check1.checked - check1.differ}/${check1.checked}` };
  await ours.close();

  // 3. pgsync on the same tables
  if (args.pgsync !== 'off') {
    try {
      const pg = await runPgsync({ es, db, databaseUrl: DATABASE_URL, esUrl: ES_URL, esPid: ES_PID, index: `bj_${run}_pgsync`, schema: pgsyncSchema, documents: ORDERS, cleanups, say });
      say(`pgsync: bootstrap ${f(pg.bootstrapSecs, 1)} s; snapshot ${f(pg.snapshotSecs, 1)} s, ${f(ORDERS / pg.snapshotSecs)} docs/s, ${f(sourceRows / pg.snapshotSecs)} source rows/s; pgsync ${f(pg.selfUs)} µs/doc, Elasticsearch ${f(pg.esUs)} µs/doc; document 1: ${pg.sample}`);
      results['snapshot docs/s'].pgsync = f(ORDERS / pg.snapshotSecs);
      results['snapshot s'].pgsync = `${f(pg.snapshotSecs, 1)} (+ bootstrap ${f(pg.bootstrapSecs, 1)})`;
      results['snapshot source rows/s'].pgsync = f(sourceRows / pg.snapshotSecs);
      results['snapshot CPU µs/doc (pipeline | Elasticsearch)'].pgsync = `${f(pg.selfUs)} (pgsync) | ${f(pg.esUs)}`;
      const daemon = pg.daemon();
      const pgC: Contender = {
        name: 'pgsync', index: pg.index, markerQuery: objectMarker,
        caughtUp: async (ws, watcher) => {
          const marks = await Promise.all(ws.map((w) => probeWrite(w)));
          await Promise.all(marks.map((m) => watcher.wait(m.marker, 900_000)));
        },
      };
      // Ready once its initial pull is done and a probe comes through.
      {
        const w = probeWatcher(workload, pg.index, objectMarker);
        const m = await probeWrite(writers[0]!);
        await w.wait(m.marker, 300_000).finally(() => w.stop());
      }
      if (daemon.exitCode !== null) throw new Error(`pgsync --daemon exited:\n${pg.logTail()}`);
      const psus = await sustained(workload, pgC, writers, Number(args.sustainSeconds));
      const pload = perChange(psus.stats, psus.changes);
      say(`pgsync sustained: ${psus.changes} changes written in ${f(psus.writeSecs, 1)} s (${f(psus.writeRate)}/s), caught up after ${f(psus.totalSecs, 1)} s: ${f(psus.rate)} changes/s; per change ${f(pload.scans, 2)} scans, ${f(pload.rows, 1)} rows read (${pload.detail})`);
      const plat = await latency(workload, pgC, writers, psus.rate / 2, Number(args.latencySeconds), Number(args.probes));
      say(`pgsync latency at ${f(plat.rate)}/s (achieved ${f(plat.achieved)}/s): ${plat.probes} probes p50 ${ms(plat.p50)} p90 ${ms(plat.p90)} p99 ${ms(plat.p99)} max ${ms(plat.max)}`);
      results['sustained changes/s (written/s)'].pgsync = `${f(psus.rate)} (${f(psus.writeRate)})`;
      results['latency p50 / p99 at half rate'].pgsync = `${ms(plat.p50)} / ${ms(plat.p99)} at ${f(plat.achieved)}/s`;
      results['per change: queries | scans | rows read'].pgsync = `? | ${f(pload.scans, 2)} | ${f(pload.rows, 1)}`;
      results['ratio ours / pgsync'] = {
        ours: `${snapshotRatios(s, so, pg)}; sustained ${f(sus.rate / psus.rate, 2)}x; p99 ${f(lat.p99 / plat.p99, 2)}x`,
      };
      await pg.teardown();
    } catch (err) {
      say(`pgsync did not run: ${(err as Error).message}`);
      results['snapshot docs/s'].pgsync = `failed: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  results['ratio ours / flat (snapshot docs/s)'] = { ours: `${f((ORDERS / s.secs) / (ORDERS / flatSnap.secs), 2)}x` };
  console.table(results);
}

(args.role === 'pipeline' ? pipelineRole() : main())
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (args.keep) return;
    for (const c of cleanups.reverse()) await c.fn().catch((err: unknown) => say(`cleanup of ${c.what} failed: ${String(err)}`));
    await db.end().catch(() => undefined);
    await es.close();
    process.exit();
  });
