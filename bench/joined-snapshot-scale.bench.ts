/**
 * The snapshot of a new joined index over existing tables of millions of rows (issue 12, item 4),
 * killed and resumed: the seven-table model of e2e/support/joined-model.ts with `--roots` orders
 * (default 1 000 000) and proportionate children (`--itemsPerRoot` items each, a shipping row for
 * two orders in three, two tag links each), loaded by INSERT ... SELECT generate_series. Ingest
 * and the indexer run as real processes (as `npm start` runs them, the services' defaults) with
 * their own slot, topic prefix, consumer group and index. Ingest is SIGKILLed once while it copies
 * the root table (at `--killIngestAt` of it) and the indexer once later (at `--killIndexerAt` of
 * the documents searchable); each is restarted at once. Not a test.
 *
 *   STACK_DIR=<stack state folder> npx tsx bench/joined-snapshot-scale.bench.ts \
 *       [--roots 1000000] [--itemsPerRoot 3] [--sample 2000] [--killIngestAt 0.3] [--killIndexerAt 0.5] [--keep]
 *
 * Reports: total time (first start to the index's watermark, on every topic it reads, past the
 * WAL position of the moment ingest's copy was done), joined documents/s, peak RSS of ingest and
 * the indexer (VmHWM of each process, the highest of its runs), CPU per document of each and of
 * Elasticsearch, Postgres queries per document (counted in each process by
 * bench/pg-query-counter.cjs: the stack's Postgres has no pg_stat_statements) and scans and rows
 * read per document (pg_stat_user_tables deltas of the model's tables, settled as
 * bench/pg-table-stats.ts does), documents rebuilt per root (the indexer's
 * indexer_join_rebuilds_total, summed over its runs). Then the verification: the document count
 * equals the root table's row count, and `--sample` random orders equal what the SQL of the
 * e2e checker (joinedModel().expectedDocs) computes. Everything it creates (tables, slot,
 * publication, snapshot state, topics, consumer group, index, watermark documents) is dropped at
 * the end unless `--keep`.
 */
import '../e2e/support/load-stack-env';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from 'pg';
import { readWatermark } from '../core/watermark-store';
import { dropSearchIndex, dropStateDocs } from '../e2e/support/indexer-harness';
import { canonical, joinedModel } from '../e2e/support/joined-model';
import { freePort, startService, stopService, type RunningService } from '../e2e/support/processes';
import { es as esClient, kafka as kafkaClient, pg, uniqueName } from '../e2e/support/services';
import { currentWalLsn, dropPipelineObjects, slotReleased } from '../ingest/test-support/harness';
import { STATE_TABLE } from '../ingest/snapshot/snapshot-state';
import { settledStats, minus } from './pg-table-stats';
import { cpuSeconds, residentMb, stackPid } from './proc-stats';

const { values: args } = parseArgs({
  options: {
    roots: { type: 'string', default: '1000000' }, itemsPerRoot: { type: 'string', default: '3' }, sample: { type: 'string', default: '2000' },
    killIngestAt: { type: 'string', default: '0.3' }, killIndexerAt: { type: 'string', default: '0.5' }, keep: { type: 'boolean', default: false },
    // `--reindex on`: then `npm run reindex` of the index (a replay of its topics into a new generation), timed and checked the same way.
    reindex: { type: 'string', default: 'off' },
  },
});
const ROOTS = Number(args.roots);
const ITEMS = ROOTS * Number(args.itemsPerRoot);
const SAMPLE = Math.min(Number(args.sample), ROOTS);
const say = (m: string): void => void process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '?');
const secsSince = (t: number): number => (performance.now() - t) / 1000;

const m = joinedModel();
const slot = `slot_${uniqueName('jscale').replace(/-/g, '_')}`;
const groupId = uniqueName('g_jscale');
const root = `public.${m.orders}`;
const topics = m.tables.map((t) => `${m.prefix}.public.${t}`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'joined-snapshot-scale-'));
let db: Client;
const es = esClient();

/** One run of a service: its process, and what was sampled of it until it ended. */
interface Run { service: RunningService; countFile: string; peakMb: number; peakHeapMb: number; cpu: number; rebuilds: number; metricsPort?: number }
const runs: Run[] = [];
const ingestEnvBase = (): Record<string, string> => ({
  PIPELINE_CONFIG: path.join(work, 'pipeline.json'), SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: m.prefix, INDEXER_GROUP_ID: groupId,
  // A restarted indexer gets the partitions of the killed one after this (the shortest allowed).
  INDEXER_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'warn',
});
const counted = (countFile: string) => ({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(__dirname, 'pg-query-counter.cjs')}`.trim(), PG_QUERY_COUNT_FILE: countFile });
async function launch(name: 'ingest' | 'indexer' | 'reindex'): Promise<Run> {
  const countFile = path.join(work, `${name}-${runs.length}.queries`);
  const metricsPort = name === 'indexer' ? await freePort() : undefined;
  const service = name === 'reindex'
    ? reindexCli(m.index, { ...ingestEnvBase(), ...counted(countFile) })
    : startService(name, { ...ingestEnvBase(), ...(metricsPort ? { INDEXER_METRICS_PORT: String(metricsPort) } : {}), ...counted(countFile) });
  const run: Run = { service, countFile, peakMb: 0, peakHeapMb: 0, cpu: 0, rebuilds: 0, metricsPort };
  runs.push(run);
  return run;
}
/** `npm run reindex -- <index>` as an operator runs it (beside the live indexer), its output in a file. */
function reindexCli(index: string, env: Record<string, string>): RunningService {
  const logFile = path.join(work, 'reindex.log');
  const out = fs.openSync(logFile, 'w');
  const root = path.join(__dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'reindex.ts'), index], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return { name: 'reindex', child, logFile, output: () => fs.readFileSync(logFile, 'utf8') };
}
const alive = (r: Run): boolean => r.service.child.exitCode === null && r.service.child.signalCode === null;
/** Every 500 ms: peak RSS and CPU of each live run, and the indexer's rebuild counter (lost with the process, so read often). */
async function sample(): Promise<void> {
  for (const r of runs.filter(alive)) {
    const pid = r.service.child.pid;
    const mem = residentMb(pid);
    if (mem.peak > r.peakMb) r.peakMb = mem.peak;
    const cpu = cpuSeconds(pid).process;
    if (Number.isFinite(cpu)) r.cpu = cpu;
    if (r.metricsPort) {
      const text = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`).then((x) => x.text()).catch(() => '');
      const hit = new RegExp(`^indexer_join_rebuilds_total\\{index="${m.index}"\\} (\\d+)`, 'm').exec(text);
      if (hit) r.rebuilds = Number(hit[1]);
      // How much of the RSS is the JavaScript heap in use (prom-client's default metrics, read at each scrape).
      const heap = /^indexer_nodejs_heap_size_used_bytes (\d+)/m.exec(text);
      if (heap) r.peakHeapMb = Math.max(r.peakHeapMb, Number(heap[1]) / 2 ** 20);
    }
  }
}
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    await sample();
    await sleep(500);
  }
})();

const progress = async (): Promise<{ rows: number; done: boolean } | undefined> => {
  const r = await db.query<{ rows_done: string; done: boolean }>(`SELECT rows_done, done FROM ${STATE_TABLE} WHERE slot_name = $1 AND table_name = $2`, [slot, root]).catch(() => ({ rows: [] }));
  return r.rows[0] ? { rows: Number(r.rows[0].rows_done), done: r.rows[0].done } : undefined;
};
const searchable = async (): Promise<number> => (await es.count({ index: m.index }).catch(() => ({ count: 0 }))).count;

/** Polls `fn` every 250 ms until it returns a value; fails when a service died on its own or after `timeoutMs`. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 3_600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    const dead = runs.find((r) => r.service.name !== 'reindex' && r.service.child.exitCode !== null && r.service.child.signalCode === null);
    if (dead) throw new Error(`${dead.service.name} exited (${dead.service.child.exitCode}) while waiting for ${what}:\n${dead.service.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

async function kill(r: Run): Promise<void> {
  await sample();
  await stopService(r.service, 'SIGKILL');
}

/** `SAMPLE` distinct random orders against what the e2e checker's SQL computes for them. */
async function verify(): Promise<{ count: number; rootRows: number; checked: number; differ: number; example?: string }> {
  await es.indices.refresh({ index: m.index });
  const { count } = await es.count({ index: m.index });
  const rootRows = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${m.orders}`)).rows[0]!.n);
  const ids = new Set<number>();
  while (ids.size < SAMPLE) ids.add(1 + Math.floor(Math.random() * ROOTS));
  const want = await m.expectedDocs(db, [...ids]);
  let differ = 0;
  let example: string | undefined;
  const keys = [...want.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const got = await es.mget<Record<string, unknown>>({ index: m.index, ids: chunk });
    got.docs.forEach((d, j) => {
      const source = (d as { _source?: unknown })._source;
      const expected = want.get(chunk[j]!)!;
      if (!source || canonical(source) !== expected) {
        differ++;
        example ??= `${chunk[j]}: want ${expected.slice(0, 300)} got ${source ? canonical(source).slice(0, 300) : 'nothing'}`;
      }
    });
  }
  return { count, rootRows, checked: want.size, differ, example };
}

async function cleanup(): Promise<void> {
  for (const r of runs) await stopService(r.service).catch(() => undefined);
  await dropPipelineObjects(db, slot, m.tables);
  const admin = kafkaClient().admin();
  await admin.connect();
  const reindexGroups = (await admin.listGroups().catch(() => ({ groups: [] }))).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${groupId}.reindex.`));
  await admin.deleteGroups([groupId, ...reindexGroups]).catch(() => undefined);
  await admin.deleteTopics({ topics: [...topics, `${m.prefix}.dead-letters`] }).catch(() => undefined);
  await admin.disconnect();
  await dropSearchIndex(es, m.index);
  await dropStateDocs(es, m.index).catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  db = await pg();
  say(`${f(ROOTS)} orders, ${f(ITEMS)} items; tables ${m.prefix}_*, slot ${slot}, index ${m.index}`);
  let t = performance.now();
  await m.create(db, { orders: ROOTS, items: ITEMS });
  await db.query(`ANALYZE ${m.tables.join(', ')}`);
  const { rows: sizes } = await db.query<{ t: string; n: string }>(m.tables.map((x) => `SELECT '${x}' AS t, count(*) AS n FROM ${x}`).join(' UNION ALL '));
  const sourceRows = sizes.reduce((s, r) => s + Number(r.n), 0);
  say(`loaded ${f(sourceRows)} rows in ${f(secsSince(t), 1)} s (${sizes.map((r) => `${r.t.slice(m.prefix.length + 1)} ${f(Number(r.n))}`).join(', ')})`);
  fs.writeFileSync(path.join(work, 'pipeline.json'), JSON.stringify(m.pipeline));

  const stats0 = await settledStats(db, { tables: m.tables });
  const esPid = stackPid('elasticsearch');
  const es0 = cpuSeconds(esPid).process;
  t = performance.now();
  const startedAt = Date.now();
  let ingest = await launch('ingest');
  let indexer = await launch('indexer');
  const trace = setInterval(() => void (async () => {
    const p = await progress();
    say(`  +${f(secsSince(t))} s: root rows copied ${f(p?.rows ?? 0)}${p?.done ? ' (done)' : ''}, documents searchable ${f(await searchable())}; RSS ingest ${f(residentMb(ingest.service.child.pid).rss)} MB, indexer ${f(residentMb(indexer.service.child.pid).rss)} MB`);
  })(), 15_000);
  try {
    // 1. ingest, while it copies the root table
    const killedAt = await until('the root table copy under way', async () => {
      const p = await progress();
      if (p?.done) throw new Error('the root table was copied before ingest could be killed: use more --roots or a lower --killIngestAt');
      return p && p.rows >= Number(args.killIngestAt) * ROOTS ? p.rows : undefined;
    });
    await kill(ingest);
    const afterKill = (await progress())!;
    if (afterKill.done) throw new Error(`ingest finished the copy (${afterKill.rows} rows) before the SIGKILL landed: use more --roots or a lower --killIngestAt`);
    const saved = afterKill.rows;
    await slotReleased(db, slot, 60_000);
    ingest = await launch('ingest');
    const resumedAt = secsSince(t);
    const next = await until('the restarted copy saving progress', async () => {
      const p = await progress();
      return p && (p.done || p.rows !== saved) ? p.rows : undefined;
    });
    if (next < saved) throw new Error(`the restarted ingest went back from ${saved} to ${next} root rows: it did not resume`);
    say(`ingest SIGKILLed at ${f(killedAt)} root rows copied (saved ${f(saved)}), restarted at ${f(resumedAt, 1)} s, next saved ${f(next)}`);

    // 2. the indexer, half way through the documents
    const docsAt = await until('documents searchable', async () => {
      const n = await searchable();
      if (n >= ROOTS) throw new Error('every document was written before the indexer could be killed: use a lower --killIndexerAt');
      return n >= Number(args.killIndexerAt) * ROOTS ? n : undefined;
    });
    await kill(indexer);
    indexer = await launch('indexer');
    say(`indexer SIGKILLed at ${f(docsAt)} documents searchable, restarted at ${f(secsSince(t), 1)} s`);

    // 3. the end: the copy done, and the index's watermark past it on every topic
    await until('the root table copied', async () => ((await progress())?.done ? true : undefined));
    // When the copy was saved done (it may have been long before this check).
    const copiedAt = (await db.query<{ ms: number }>(`SELECT extract(epoch FROM updated_at) * 1000 AS ms FROM ${STATE_TABLE} WHERE slot_name = $1 AND table_name = $2`, [slot, root])).rows[0]!.ms;
    const copiedSecs = (Number(copiedAt) - startedAt) / 1000;
    const target = await currentWalLsn(db);
    await until('the watermark past the copy', async () => {
      const wms = await Promise.all(topics.map((x) => readWatermark(es, m.index, x).catch(() => undefined)));
      return wms.every((w) => w && w.lsn >= target) ? true : undefined;
    });
    const totalSecs = secsSince(t);
    clearInterval(trace);
    await sample();
    const esCpu = cpuSeconds(esPid).process - es0;
    const stats = minus(await settledStats(db, { tables: m.tables }), stats0);
    const v = await verify();

    const of = (name: string) => runs.filter((r) => r.service.name === name);
    const queries = (name: string) => of(name).reduce((s, r) => s + Number(fs.existsSync(r.countFile) ? fs.readFileSync(r.countFile, 'utf8') : NaN), 0);
    const cpuUs = (name: string) => (of(name).reduce((s, r) => s + r.cpu, 0) * 1e6) / ROOTS;
    const peak = (name: string) => Math.max(...of(name).map((r) => r.peakMb));
    const rebuilds = of('indexer').reduce((s, r) => s + r.rebuilds, 0);
    const results: Record<string, string> = {
      'source rows (7 tables)': f(sourceRows),
      'total, s (root table copied after)': `${f(totalSecs, 1)} (${f(copiedSecs, 1)})`,
      'joined documents/s | source rows/s': `${f(ROOTS / totalSecs)} | ${f(sourceRows / totalSecs)}`,
      'peak RSS, MB: ingest | indexer (its peak heap used)': `${f(peak('ingest'))} | ${f(peak('indexer'))} (${f(Math.max(...of('indexer').map((r) => r.peakHeapMb)))})`,
      'CPU µs/document: ingest | indexer | Elasticsearch': `${f(cpuUs('ingest'))} | ${f(cpuUs('indexer'))} | ${f((esCpu * 1e6) / ROOTS)}`,
      'Postgres queries: ingest | indexer (per 1 000 documents)': `${f(queries('ingest'))} | ${f(queries('indexer'))} (${f((queries('ingest') * 1000) / ROOTS, 2)} | ${f((queries('indexer') * 1000) / ROOTS, 2)})`,
      'Postgres per document: scans | rows read (seq | index)': `${f(stats.scans / ROOTS, 2)} | ${f(stats.rows / ROOTS, 1)} (${f(stats.seqRows / ROOTS, 1)} | ${f(stats.idxRows / ROOTS, 1)})`,
      'documents rebuilt per root': f(rebuilds / ROOTS, 3),
      'documents = root rows': `${f(v.count)} = ${f(v.rootRows)}: ${v.count === v.rootRows ? 'yes' : 'NO'}`,
      'sample equal to SQL': `${v.checked - v.differ}/${v.checked}`,
    };
    if (v.example) say(`a document that differs: ${v.example}`);
    if (v.count !== v.rootRows || v.differ) process.exitCode = 1;

    if (args.reindex === 'on') {
      const r0 = performance.now();
      const cli = await launch('reindex');
      const code = await new Promise<number | null>((resolve) => (cli.service.child.exitCode !== null ? resolve(cli.service.child.exitCode) : cli.service.child.once('exit', resolve)));
      const reindexSecs = secsSince(r0);
      if (code !== 0) throw new Error(`npm run reindex exited with ${code}:\n${cli.service.output().slice(-3000)}`);
      const rv = await verify();
      results['reindex, s | documents/s'] = `${f(reindexSecs, 1)} | ${f(ROOTS / reindexSecs)}`;
      results['reindex: peak RSS, MB | CPU µs/document | queries per 1 000 documents'] = `${f(cli.peakMb)} | ${f((cli.cpu * 1e6) / ROOTS)} | ${f((queries('reindex') * 1000) / ROOTS, 2)}`;
      results['after reindex: documents = root rows; sample equal to SQL'] = `${f(rv.count)} = ${f(rv.rootRows)}: ${rv.count === rv.rootRows ? 'yes' : 'NO'}; ${rv.checked - rv.differ}/${rv.checked}`;
      if (rv.example) say(`after the reindex, a document that differs: ${rv.example}`);
      if (rv.count !== rv.rootRows || rv.differ) process.exitCode = 1;
    }
    console.table(results);
  } catch (err) {
    for (const r of runs.slice(-2)) say(`--- ${r.service.name} log tail:\n${r.service.output().slice(-2000)}`);
    throw err;
  } finally {
    clearInterval(trace);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    sampling = false;
    await sampler;
    if (!args.keep && db) await cleanup().catch((err: unknown) => say(`cleanup failed: ${String(err)}`));
    await db.end().catch(() => undefined);
    await es.close();
    process.exit();
  });
