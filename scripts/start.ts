import path from 'node:path';
import { Client } from 'pg';
import { slotName } from '../config';
import { loadStackConfig } from '../config/stack-config';
import { STATE_TABLE } from '../ingest/snapshot/snapshot-state';
import { stackDown } from '../stack/down';
import { stackPaths } from '../stack/paths';
import { kernelFreePort } from '../stack/ports';
import { stackUp } from '../stack/up';
import { ensureMameHashDir } from '../stack/datasets/mame-download';
import { createTableSql, loadMameDemo, quoteTableName, splitTablesSql } from '../stack/datasets/mame-load';
import { parseMameRecords } from '../stack/datasets/mame-parse';
import { mameParents } from '../stack/datasets/mame-split';
import { APP_NAMES, appLog, readAppsEnv, runningApp, startApp, stopApp, tailLog, writeAppsEnv, type AppName } from './app-processes';
import { progressBar } from './progress';
import { waitFor } from './wait';

/**
 * `npm start`: the real services, the three pipeline processes, and the MAME software lists
 * flowing Postgres → Kafka → Elasticsearch; returns once both demo indexes hold every row: the
 * flat `software` (one table) and the joined `titles` (titles with their list, publisher and
 * parts, from the tables of stack/datasets/mame-split.ts).
 */
const DEMO_TABLE = 'public.software';
const DEMO_INDEX = 'software';
const SPLIT_SCHEMA = 'public';
const JOINED_TABLE = 'public.titles';
const JOINED_INDEX = 'titles';
const say = (m: string): void => void process.stderr.write(`${m}\n`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const config = loadStackConfig();
  const paths = stackPaths(config.stackDir);
  say('Starting the local stack (Postgres, Kafka, Elasticsearch, Redis)...');
  const up = await stackUp({ log: (m) => say(`  ${m}`) });
  const startedApps: AppName[] = [];
  try {
    const env = up.env;
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(createTableSql(quoteTableName(DEMO_TABLE)));
      // Before the indexer starts: it checks a joined index's tables and keys against the catalog.
      for (const sql of splitTablesSql(SPLIT_SCHEMA)) await db.query(sql);

      const appEnv: Record<string, string> = {
        ...(env as unknown as Record<string, string>),
        PIPELINE_CONFIG: path.join(__dirname, '..', 'config', 'pipelines', 'demo.json'),
        INGEST_METRICS_PORT: String(await kernelFreePort()),
        INDEXER_METRICS_PORT: String(await kernelFreePort()),
        // Every partition of the demo's five topics at once (3 each): with the default 4, the
        // joined index's slow batches held the slots and the load took twice as long to index
        // (docs/joined-documents.md, "Costs"). Bulk requests stay bounded by INDEXER_CONCURRENCY.
        INDEXER_PARTITIONS_CONCURRENCY: '16',
        // Apps still running from an earlier start keep their ports: what they were given stays true.
        ...(APP_NAMES.some((n) => runningApp(paths, n)) ? readAppsEnv(paths) : {}),
      };
      writeAppsEnv(paths, { PIPELINE_CONFIG: appEnv.PIPELINE_CONFIG!, INGEST_METRICS_PORT: appEnv.INGEST_METRICS_PORT!, INDEXER_METRICS_PORT: appEnv.INDEXER_METRICS_PORT! });
      say('Starting ingest, indexer and api...');
      for (const name of APP_NAMES) {
        if (!runningApp(paths, name)) startedApps.push(name);
        await startApp(paths, name, appEnv);
      }
      const alive = (name: AppName): void => {
        if (!runningApp(paths, name)) throw new Error(`${name} exited during start-up. Its log is ${appLog(paths, name)}; last lines:\n${tailLog(paths, name)}`);
      };
      await waitFor('the API to answer /readyz', 60_000, async () => {
        APP_NAMES.forEach(alive);
        return (await fetch(`${env.API_URL}/readyz`).catch(() => undefined))?.ok === true;
      });
      await waitFor('ingest to open its replication slot', 60_000, async () => {
        alive('ingest');
        return ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slotName()])).rowCount ?? 0) > 0;
      });

      await followSnapshot(db, () => alive('ingest'));
      // Each set is loaded when empty (a stack from before the split has only the flat table).
      const flatEmpty = (await count(db, DEMO_TABLE)) === 0;
      const splitEmpty = (await count(db, JOINED_TABLE)) === 0;
      if (flatEmpty || splitEmpty) {
        const into = [flatEmpty ? DEMO_TABLE : '', splitEmpty ? `${SPLIT_SCHEMA}.{software_lists,publishers,titles,parts}` : ''].filter(Boolean).join(' and ');
        say(`Loading the MAME software lists (Debian mame-data, CC0) into ${into}...`);
        const hashDir = await ensureMameHashDir(config.cacheDir, (m) => say(`  ${m}`));
        // Lists and publishers first, in a transaction of their own (see DemoTargets.parents).
        const parents = splitEmpty ? await mameParents(parseMameRecords(hashDir)) : undefined;
        const targets = { software: flatEmpty ? DEMO_TABLE : undefined, splitSchema: splitEmpty ? SPLIT_SCHEMA : undefined, parents };
        const bar = progressBar('entries committed to Postgres', 133_294);
        const loaded = await loadMameDemo(db, parseMameRecords(hashDir), targets, { onProgress: (n) => bar.update(n) });
        bar.done(Math.max(loaded.software, loaded.titles));
        say(`  rows inserted: ${Object.entries(loaded).map(([t, n]) => `${t} ${n.toLocaleString('en')}`).join(', ')}`);
      }
      const total = await count(db, DEMO_TABLE);
      const joinedTotal = await count(db, JOINED_TABLE);
      for (const [index, want] of [[DEMO_INDEX, total], [JOINED_INDEX, joinedTotal]] as const) {
        const bar = progressBar(`"${index}" documents searchable`, want);
        await waitFor(`all ${want} rows to become searchable in "${index}"`, 600_000, async () => {
          APP_NAMES.forEach(alive);
          const res = await fetch(`${env.API_URL}/v1/indexes/${index}/search?size=0`).catch(() => undefined);
          const n = res?.ok ? ((await res.json()) as { total: number }).total : 0;
          bar.update(n);
          if (n >= want) bar.done(n);
          return n >= want;
        });
      }
      // Every root has its document now, but a joined one is complete only once the changes of its
      // child rows are in too (the parts arrive as their own inserts): ready means each index's
      // watermark covers what was committed so far (the API's read-your-writes, `minLsn`).
      const committed = (await db.query<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn")).rows[0]!.lsn;
      for (const index of [DEMO_INDEX, JOINED_INDEX]) {
        await waitFor(`"${index}" to index every change committed before LSN ${committed}`, 600_000, async () => {
          APP_NAMES.forEach(alive);
          const res = await fetch(`${env.API_URL}/v1/indexes/${index}/search?size=0&minLsn=${committed}`).catch(() => undefined);
          return res?.ok === true && ((await res.json()) as { stale?: boolean }).stale === false;
        });
      }
      const api = env.API_URL;
      say('');
      say(`Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${total.toLocaleString('en')} MAME software entries flow from Postgres (${DEMO_TABLE}) to the "${DEMO_INDEX}" index,`);
      say(`  and ${joinedTotal.toLocaleString('en')} titles with their list, publisher and parts (${SPLIT_SCHEMA}.titles, software_lists, publishers, parts) to the joined "${JOINED_INDEX}" index.`);
      say(`  API            ${api}   (health ${api}/healthz, metrics ${api}/metrics)`);
      say(`  ingest         metrics http://127.0.0.1:${appEnv.INGEST_METRICS_PORT}/metrics`);
      say(`  indexer        metrics http://127.0.0.1:${appEnv.INDEXER_METRICS_PORT}/metrics`);
      say(`  services       ${up.envFile}  (logs in ${paths.logsDir}):`);
      for (const [k, v] of Object.entries(env)) say(`                 ${k}=${v}`);
      say('Try:');
      say(`  curl '${api}/v1/indexes/${DEMO_INDEX}/search?q=street+fighter&size=3'`);
      say(`  curl '${api}/v1/indexes/${DEMO_INDEX}/search?q=zelda+-link&page=2&size=5'`);
      say(`  curl '${api}/v1/indexes/${JOINED_INDEX}/search?q=tetris&filter=publisher.name:Nintendo&facets=list.description&size=3'`);
      say(`  curl '${api}/v1/indexes/${JOINED_INDEX}/search?q=ultima&filter=parts.interface:floppy_5_25&facets=publisher.name,parts.interface&size=3'`);
      say('Then `npm run smoke` measures commit-to-searchable, and `npm stop` stops everything.');
      say('The demo API runs with API_AUTH=off (no keys). With API_AUTH=keys, create one with `npm run api-keys -- create --tenant demo --scopes search,analytics`.');
    } finally {
      await db.end();
    }
  } catch (err) {
    // Nothing half-started: stop what this run started, leave what was already running.
    for (const name of [...startedApps].reverse()) await stopApp(paths, name).catch(() => undefined);
    if (up.started.length) await stackDown({ services: up.started }).catch(() => undefined);
    throw err;
  }
}

/** A progress bar while ingest's initial snapshot copies rows that existed before its slot (ingest/snapshot/). */
async function followSnapshot(db: Client, alive: () => void): Promise<void> {
  const read = async () => (await db.query<{ done: string | null; total: string | null; finished: boolean | null }>(
    `SELECT sum(rows_done) AS done, sum(coalesce(rows_total, 0)) AS total, bool_and(done) AS finished FROM ${STATE_TABLE} WHERE slot_name = $1`, [slotName()],
  ).catch(() => ({ rows: [] }))).rows[0];
  const first = await read();
  if (!first || first.finished !== false) return;
  const bar = progressBar('rows copied by the initial snapshot', Number(first.total ?? 0));
  await waitFor('the initial snapshot', 3_600_000, async () => {
    alive();
    const s = await read();
    bar.update(Number(s?.done ?? 0), Number(s?.total ?? 0));
    if (s?.finished !== false) bar.done(Number(s?.done ?? 0));
    return s?.finished !== false;
  });
}

async function count(db: Client, table: string): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTableName(table)}`)).rows[0]?.n ?? 0);
}

main().catch((err: unknown) => {
  say(`\nnpm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
