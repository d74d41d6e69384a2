/**
 * Ingest throughput, Postgres commit to Kafka acknowledgement, side by side on the same WAL with
 * Debezium Server (pgoutput → Kafka) and with the raw ceiling of `pg_recvlogical` reading a slot to
 * /dev/null; then the peak RSS of ingest while it streams one 1-million-row transaction. Not a test.
 *
 *   npx tsx bench/ingest.bench.ts [--rows 200000] [--txRows 1000] [--bigRows 1000000] [--sizes 200,1000]
 *       [--debezium 2.7.3.Final | none] [--debeziumProps debezium.source.max.batch.size=8192,...]
 *
 * Method: for each row size, one table and one publication; every contender gets its own slot,
 * created (ingest: started once on the empty table) before the rows are written, so all of them
 * decode exactly the same WAL: `rows` rows in transactions of `txRows`, committed up front. Then
 * each contender runs alone and catches up; rows/s = rows / (time of the last row acknowledged in
 * Kafka - time of the first), Kafka high watermarks polled every 20 ms, start-up shown apart.
 * pg_recvlogical: rows / wall time to --endpos. Debezium Server runs from the stack's download
 * cache (never the repo) with its defaults apart from what pgoutput → Kafka needs (as stack/ runs them).
 * Needs the local stack (`npm run stack:up`); everything it creates is dropped afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { loadStackConfig } from '../config/stack-config';
import { serviceNodeArgs } from '../config/service-runtime';
import { ensureTopics } from '../core/kafka';
import { freePort, startService, stopService, type RunningService } from '../e2e/support/processes';
import { cpuSeconds, stackPid } from './proc-stats';
import { kafkajsClient } from '../core/kafkajs-client';

const ROOT = path.join(__dirname, '..');
const stackEnv = path.join(ROOT, '.stack', 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, txRows: { type: 'string', default: '1000' }, bigRows: { type: 'string', default: '1000000' }, sizes: { type: 'string', default: '200,1000' }, debezium: { type: 'string', default: '2.7.3.Final' }, debeziumProps: { type: 'string', default: '' } } });
const ROWS = Number(args.rows);
const TX_ROWS = Number(args.txRows);
const BIG_ROWS = Number(args.bigRows);
const DATABASE_URL = process.env.DATABASE_URL!;
const BROKERS = process.env.KAFKA_BROKERS!.split(',');
const run = Date.now().toString(36);
const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
const say = (m: string): void => void process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const db = new Client({ connectionString: DATABASE_URL });
const cleanups: Array<() => Promise<unknown>> = [];

/** CPU µs per row of the processes beside the contender: the slot's walsender (decoding) and the Kafka broker. */
interface PeerCpu { walsender?: number; broker?: number }
interface Result { contender: string; size: number; rowsPerSec: number; startupMs?: number; cpuUsPerRow?: { process: number; main: number }; peers?: PeerCpu; note?: string }

async function topicCount(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
  } catch {
    return 0; // not created yet
  } finally {
    await admin.disconnect();
  }
}

async function createTopics(topics: string[]): Promise<void> {
  // The product's own creation: a broker just started answers UNKNOWN_TOPIC_OR_PARTITION for a moment.
  await ensureTopics(kafkajsClient(kafka), topics, 3);
  cleanups.push(async () => {
    const a = kafka.admin();
    await a.connect();
    await a.deleteTopics({ topics }).catch(() => undefined);
    await a.disconnect();
  });
}

/** The Kafka broker's JVM: its CPU per row is part of what any pipeline into Kafka costs this machine. */
const brokerPid = stackPid('kafka');

/** The walsender streaming a slot (Postgres runs one process per replication connection). */
async function slotPid(slot: string): Promise<number | undefined> {
  const { rows } = await db.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return rows[0]?.pid ?? undefined;
}

/** Polls a topic until it holds `want` messages: start-up (spawn → first message) and rows/s (first → last); with `pid`, CPU µs per row between them. */
async function timeCatchUp(topic: string, want: number, spawnedAt: number, isAlive: () => boolean, timeoutMs = 600_000, pid?: number, slot?: string): Promise<{ rowsPerSec: number; startupMs: number; cpuUsPerRow?: { process: number; main: number }; peers?: PeerCpu }> {
  let first: number | undefined;
  let cpuAtFirst: { process: number; main: number } | undefined;
  let peersAtFirst: { walsender?: number; broker?: number; walsenderPid?: number } = {};
  for (;;) {
    const n = await topicCount(topic);
    const now = Date.now();
    if (n > 0 && first === undefined) {
      first = now;
      if (pid) cpuAtFirst = cpuSeconds(pid);
      const walsenderPid = slot ? await slotPid(slot) : undefined;
      peersAtFirst = { walsenderPid, walsender: walsenderPid ? cpuSeconds(walsenderPid).process : undefined, broker: brokerPid ? cpuSeconds(brokerPid).process : undefined };
    }
    if (n >= want) {
      const cpu = pid && cpuAtFirst ? cpuSeconds(pid) : undefined;
      const perRow = (s: number) => Math.round((s * 1e6) / want);
      const since = (at: number | undefined, p: number | undefined) => (at !== undefined && p ? perRow(cpuSeconds(p).process - at) : undefined);
      return {
        rowsPerSec: Math.round(want / Math.max(0.001, (now - first!) / 1000)),
        startupMs: first! - spawnedAt,
        ...(cpu && cpuAtFirst ? { cpuUsPerRow: { process: perRow(cpu.process - cpuAtFirst.process), main: perRow(cpu.main - cpuAtFirst.main) } } : {}),
        peers: { walsender: since(peersAtFirst.walsender, peersAtFirst.walsenderPid), broker: since(peersAtFirst.broker, brokerPid) },
      };
    }
    if (!isAlive()) throw new Error(`the process feeding ${topic} exited with ${n}/${want} messages`);
    if (now - spawnedAt > timeoutMs) throw new Error(`${topic}: ${n}/${want} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

function ingestEnv(slot: string, prefix: string, pipelineFile: string): Record<string, string> {
  return { PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '0', LOG_LEVEL: 'warn' };
}

/** ingest/main.ts as `npm start` runs it; BENCH_PROFILE=<dir> adds CPU profiles (open them in Chrome DevTools). */
function startIngest(env: Record<string, string>): RunningService {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return startService('ingest', env);
  const logFile = path.join(os.tmpdir(), `bench-ingest-${Date.now()}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...serviceNodeArgs('ingest')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return { name: 'ingest', child, logFile, output: () => fs.readFileSync(logFile, 'utf8') };
}

/** Starts ingest on the still empty table, waits until its (empty) snapshot is done, stops it: the slot now streams. */
async function primeIngest(table: string, slot: string, prefix: string): Promise<Record<string, string>> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-')), 'pipeline.json');
  fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [table.replace(/_/g, '-')]: { table, fields: { b: { type: 'text', searchable: true } } } } }));
  const env = ingestEnv(slot, prefix, file);
  const s = startIngest(env);
  cleanups.push(async () => {
    await db.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query('DELETE FROM search_pipeline_snapshot WHERE slot_name = $1', [slot]);
  });
  const deadline = Date.now() + 60_000;
  while (!(await db.query('SELECT 1 FROM search_pipeline_snapshot WHERE slot_name = $1 AND done', [slot]).catch(() => ({ rowCount: 0 }))).rowCount) {
    if (Date.now() > deadline || s.child.exitCode !== null) throw new Error(`ingest did not start:\n${s.output().slice(-2000)}`);
    await sleep(100);
  }
  await stopService(s);
  return env;
}

async function waitSlotFree(slot: string): Promise<void> {
  while ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot])).rowCount) await sleep(50);
}

function rssKb(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

function debeziumHome(): string | undefined {
  if (args.debezium === 'none') return undefined;
  const base = path.join(loadStackConfig().cacheDir, 'debezium');
  const home = path.join(base, args.debezium, 'debezium-server');
  if (fs.existsSync(path.join(home, 'run.sh'))) return home;
  fs.mkdirSync(path.join(base, args.debezium), { recursive: true });
  const tgz = path.join(base, `debezium-server-dist-${args.debezium}.tar.gz`);
  if (!fs.existsSync(tgz)) {
    say(`downloading io.debezium:debezium-server-dist:${args.debezium}:tar.gz into ${base} (~450 MB)`);
    const r = spawnSync('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=io.debezium:debezium-server-dist:${args.debezium}:tar.gz`, `-DoutputDirectory=${base}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('Debezium Server download failed (mvn)');
  }
  if (spawnSync('tar', ['xzf', tgz, '-C', path.join(base, args.debezium)], { stdio: 'inherit' }).status !== 0) throw new Error('unpacking Debezium Server failed');
  return home;
}

/** Debezium Server streaming the prepared slot into Kafka; `conf/` is written per run (the distribution is a cache, not ours to keep config in). */
async function runDebezium(home: string, table: string, slot: string, prefix: string, want: number): Promise<{ rowsPerSec: number; startupMs: number; peers?: PeerCpu }> {
  const url = new URL(DATABASE_URL);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dbz-'));
  const props = {
    'debezium.sink.type': 'kafka',
    'debezium.sink.kafka.producer.bootstrap.servers': BROKERS.join(','),
    'debezium.sink.kafka.producer.key.serializer': 'org.apache.kafka.common.serialization.StringSerializer',
    'debezium.sink.kafka.producer.value.serializer': 'org.apache.kafka.common.serialization.StringSerializer',
    'debezium.sink.kafka.producer.acks': 'all',
    'debezium.source.connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'debezium.source.plugin.name': 'pgoutput',
    'debezium.source.slot.name': slot,
    'debezium.source.publication.name': slot,
    'debezium.source.publication.autocreate.mode': 'disabled',
    'debezium.source.snapshot.mode': 'no_data',
    'debezium.source.database.hostname': url.hostname,
    'debezium.source.database.port': url.port,
    'debezium.source.database.user': decodeURIComponent(url.username || 'postgres'),
    'debezium.source.database.password': decodeURIComponent(url.password || 'postgres'),
    'debezium.source.database.dbname': url.pathname.slice(1) || 'postgres',
    'debezium.source.topic.prefix': prefix,
    'debezium.source.table.include.list': `public.${table}`,
    'debezium.source.offset.storage.file.filename': path.join(dataDir, 'offsets.dat'),
    'debezium.source.offset.flush.interval.ms': '0',
    'debezium.format.value.schemas.enable': 'false',
    'debezium.format.key.schemas.enable': 'false',
    'quarkus.http.host': '127.0.0.1',
    'quarkus.http.port': String(await freePort()),
    'quarkus.log.level': 'WARN',
    ...Object.fromEntries(args.debeziumProps.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
  fs.writeFileSync(path.join(home, 'conf', 'application.properties'), Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n'));
  const log = path.join(dataDir, 'debezium.log');
  const out = fs.openSync(log, 'w');
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn('bash', ['run.sh'], { cwd: home, stdio: ['ignore', out, out], env: { ...process.env, JAVA_OPTS: '-Xmx1g' } });
  fs.closeSync(out);
  try {
    return await timeCatchUp(`${prefix}.public.${table}`, want, spawnedAt, () => child.exitCode === null, undefined, undefined, slot);
  } catch (err) {
    say(fs.readFileSync(log, 'utf8').slice(-3000));
    throw err;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }
}

/** Row text ≈ `bytes`: id, a small int, a title and padding (an md5 chain, so it does not compress to nothing). */
const rowSql = (table: string, bytes: number, from: string, to: string) =>
  `INSERT INTO ${table} SELECT g, g % 1000, 'title ' || g, left(repeat(md5(g::text), ${Math.ceil(bytes / 32) + 1}), ${Math.max(1, bytes - 30)}) FROM generate_series(${from}, ${to}) g`;

async function throughput(size: number, dbzHome: string | undefined): Promise<Result[]> {
  const table = `bench_ingest_${size}_${run}`;
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, a int, b text, pad text)`);
  cleanups.push(() => db.query(`DROP TABLE IF EXISTS ${table}`));
  const pub = `bench_pub_${size}_${run}`;
  await db.query(`CREATE PUBLICATION ${pub} FOR TABLE ${table}`);
  cleanups.push(() => db.query(`DROP PUBLICATION IF EXISTS ${pub}`));
  const recvSlot = `bench_recv_${size}_${run}`;
  const dbzSlot = `bench_dbz_${size}_${run}`;
  for (const s of [recvSlot, dbzSlot]) {
    await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [s]);
    cleanups.push(() => db.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [s]));
  }
  await db.query(`CREATE PUBLICATION ${dbzSlot} FOR TABLE ${table}`);
  cleanups.push(() => db.query(`DROP PUBLICATION IF EXISTS ${dbzSlot}`));
  const ingestSlot = `bench_ingest_${size}_${run}`;
  const ingestPrefix = `bench_i_${run}`;
  const dbzPrefix = `bench_d_${run}`;
  await createTopics([`${ingestPrefix}.public.${table}`, `${dbzPrefix}.public.${table}`]);
  const env = await primeIngest(table, ingestSlot, ingestPrefix);

  say(`${size} B rows: writing ${ROWS} rows in transactions of ${TX_ROWS}`);
  for (let from = 1; from <= ROWS; from += TX_ROWS) await db.query(rowSql(table, size, String(from), String(Math.min(ROWS, from + TX_ROWS - 1))));
  const endLsn = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn;
  const avg = (await db.query<{ n: string }>(`SELECT avg(length(id::text) + length(a::text) + length(b) + length(pad))::int AS n FROM ${table}`)).rows[0]!.n;
  say(`  average row text ${avg} B`);
  const results: Result[] = [];

  const url = new URL(DATABASE_URL);
  const t0 = Date.now();
  const recv = spawn('pg_recvlogical', ['-h', url.hostname, '-p', url.port, '-U', url.username || 'postgres', '-d', url.pathname.slice(1) || 'postgres', `--slot=${recvSlot}`, '--start', '-P', 'pgoutput', '-o', 'proto_version=1', '-o', `publication_names=${pub}`, '-f', '/dev/null', `--endpos=${endLsn}`, '--no-loop'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let recvErr = '';
  recv.stderr!.on('data', (d: Buffer) => (recvErr += d.toString()));
  const recvExit = new Promise<number | null>((r) => recv.once('exit', r));
  // The walsender's CPU for the whole run: sampled until it goes away with pg_recvlogical.
  let walsenderCpu: number | undefined;
  let recvDone = false;
  void recvExit.then(() => (recvDone = true));
  while (!recvDone) {
    const pid = await slotPid(recvSlot);
    if (pid) walsenderCpu = cpuSeconds(pid).process;
    await sleep(10);
  }
  if ((await recvExit) !== 0) throw new Error(`pg_recvlogical failed: ${recvErr}`);
  const walsender = walsenderCpu !== undefined && Number.isFinite(walsenderCpu) ? Math.round((walsenderCpu * 1e6) / ROWS) : undefined;
  results.push({ contender: 'pg_recvlogical → /dev/null', size, rowsPerSec: Math.round(ROWS / ((Date.now() - t0) / 1000)), peers: { walsender }, note: 'wall time incl. connect' });
  say(`  pg_recvlogical: ${results.at(-1)!.rowsPerSec} rows/s`);

  await waitSlotFree(ingestSlot);
  const spawnedAt = Date.now();
  const s: RunningService = startIngest(env);
  try {
    const r = await timeCatchUp(`${ingestPrefix}.public.${table}`, ROWS, spawnedAt, () => s.child.exitCode === null, undefined, s.child.pid, ingestSlot);
    results.push({ contender: 'ingest (this project)', size, ...r });
    say(`  ingest: ${r.rowsPerSec} rows/s, CPU ${r.cpuUsPerRow?.process} µs/row (main thread ${r.cpuUsPerRow?.main})`);
  } finally {
    await stopService(s);
  }

  if (dbzHome) {
    const r = await runDebezium(dbzHome, table, dbzSlot, dbzPrefix, ROWS);
    results.push({ contender: `Debezium Server ${args.debezium}${args.debeziumProps ? ' (tuned)' : ''}`, size, ...r });
    say(`  Debezium Server: ${r.rowsPerSec} rows/s`);
  }
  return results;
}

/** One transaction of BIG_ROWS 200 B rows while ingest runs: peak RSS (sampled VmRSS and the kernel's VmHWM). */
async function peakRss(): Promise<{ rows: number; baselineMb: number; peakMb: number; hwmMb: number; rowsPerSec: number; seconds: number }> {
  const table = `bench_ingest_big_${run}`;
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, a int, b text, pad text)`);
  cleanups.push(() => db.query(`DROP TABLE IF EXISTS ${table}`));
  const slot = `bench_ingest_big_${run}`;
  const prefix = `bench_b_${run}`;
  await createTopics([`${prefix}.public.${table}`]);
  const env = await primeIngest(table, slot, prefix);
  await waitSlotFree(slot);
  const s = startIngest(env);
  try {
    await sleep(3000); // started and idle
    const baseline = rssKb(s.child.pid!).rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(s.child.pid!).rss)), 50);
    say(`peak RSS: one transaction of ${BIG_ROWS} rows of 200 B`);
    const t0 = Date.now();
    await db.query(rowSql(table, 200, '1', String(BIG_ROWS)));
    const committedAt = Date.now();
    say(`  committed in ${((committedAt - t0) / 1000).toFixed(1)} s`);
    const r = await timeCatchUp(`${prefix}.public.${table}`, BIG_ROWS, committedAt, () => s.child.exitCode === null);
    clearInterval(sampler);
    const hwm = rssKb(s.child.pid!).hwm;
    return { rows: BIG_ROWS, baselineMb: Math.round(baseline / 1024), peakMb: Math.round(peak / 1024), hwmMb: Math.round(hwm / 1024), rowsPerSec: r.rowsPerSec, seconds: Math.round((Date.now() - committedAt) / 100) / 10 };
  } finally {
    await stopService(s);
  }
}

async function main(): Promise<void> {
  await db.connect();
  const load = os.loadavg()[0]!.toFixed(1);
  const dbzHome = debeziumHome();
  const results: Result[] = [];
  for (const size of args.sizes.split(',').map(Number)) results.push(...(await throughput(size, dbzHome)));
  const big = BIG_ROWS > 0 ? await peakRss() : undefined;

  console.log(`\ningest benchmark: ${ROWS} rows per size in transactions of ${TX_ROWS}, ${os.cpus().length} cores, load average ${load} at start\n`);
  console.table(results.map((r) => {
    const of = (c: string) => results.find((x) => x.size === r.size && x.contender.startsWith(c))?.rowsPerSec;
    const ingest = of('ingest');
    return {
      'row size': `${r.size} B`,
      contender: r.contender,
      'rows/s': r.rowsPerSec,
      'start-up ms': r.startupMs ?? '',
      'CPU µs/row (main thread)': r.cpuUsPerRow ? `${r.cpuUsPerRow.process} (${r.cpuUsPerRow.main})` : '',
      'walsender µs/row': r.peers?.walsender ?? '',
      'broker µs/row': r.peers?.broker ?? '',
      'ingest ÷ this': ingest && r.rowsPerSec ? (ingest / r.rowsPerSec).toFixed(2) : '',
    };
  }));
  // What the machine leaves a client: Postgres decoding and the broker's writes take their CPU whatever
  // the client costs, so even a client costing nothing tops out at cores / (walsender + broker).
  for (const size of new Set(results.map((r) => r.size))) {
    const ingest = results.find((r) => r.size === size && r.contender.startsWith('ingest'));
    const recv = results.find((r) => r.size === size && r.contender.startsWith('pg_recvlogical'));
    const peers = (ingest?.peers?.walsender ?? 0) + (ingest?.peers?.broker ?? 0);
    if (!ingest || !recv || !peers || !ingest.cpuUsPerRow) continue;
    const cores = os.cpus().length;
    const freeClient = Math.round((cores * 1e6) / peers);
    const half = Math.round(recv.rowsPerSec / 2);
    console.log(`${size} B: walsender + broker cost ${peers} µs/row, so on ${cores} cores a client costing nothing could reach ~${freeClient} rows/s; half of pg_recvlogical is ${half} rows/s, which leaves a client ${Math.max(0, Math.round((cores * 1e6) / half - peers))} µs/row (ingest spends ${ingest.cpuUsPerRow.process})`);
  }
  if (big) console.log(`\npeak RSS of ingest streaming one ${big.rows}-row transaction (200 B rows): idle ${big.baselineMb} MB, peak sampled ${big.peakMb} MB, VmHWM ${big.hwmMb} MB; ${big.rowsPerSec} rows/s, ${big.seconds} s from commit to the last acknowledgement`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => say(`cleanup: ${String(e)}`));
    await db.end();
  });
