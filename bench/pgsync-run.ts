import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client as EsClient } from '@elastic/elasticsearch';
import Redis from 'ioredis';
import type { Client } from 'pg';
import { cpuSeconds } from './proc-stats';
import { ensurePgsync, startInfoProxy } from './pgsync-support';

/** What a pgsync run needs from the bench that runs it. */
export interface PgsyncDeps {
  es: EsClient;
  db: Client;
  databaseUrl: string;
  esUrl: string;
  /** Elasticsearch's process, for its CPU per document. */
  esPid: number | undefined;
  index: string;
  /** pgsync's schema.json for `index`. */
  schema: (index: string) => object[];
  /** Documents the snapshot must end with. */
  documents: number;
  /** Teardowns the bench runs at its end, also after a failure. */
  cleanups: Array<{ what: string; fn: () => Promise<unknown> }>;
  say: (m: string) => void;
}

/**
 * pgsync from PyPI (its own venv) on the bench's tables: bootstrap, then the snapshot as one
 * `pgsync` run to its exit (timed, its CPU read from /proc), checked by count; `daemon()` starts
 * it again to follow changes. Everything it made is removed by `teardown` (also queued in cleanups).
 */
export interface PgsyncRun { bootstrapSecs: number; snapshotSecs: number; esUs: number; selfUs: number; sample: string; logTail: () => string; daemon: () => ChildProcess; index: string; teardown: () => Promise<void> }

export async function runPgsync(deps: PgsyncDeps): Promise<PgsyncRun> {
  const { es, db, say, cleanups, index } = deps;
  const bin = ensurePgsync(say);
  const version = (Object.values((await es.nodes.info({ node_id: '_local', filter_path: 'nodes.*.version' })).nodes)[0] as { version: string }).version;
  const proxy = await startInfoProxy(deps.esUrl, version);
  cleanups.push({ what: 'pgsync proxy', fn: proxy.close });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pgsync-'));
  const schemaFile = path.join(dir, 'schema.json');
  fs.writeFileSync(schemaFile, JSON.stringify(deps.schema(index), null, 2));
  const logFile = path.join(dir, 'pgsync.log');
  const env = { ...process.env, PG_URL: deps.databaseUrl.replace(/^postgres:/, 'postgresql:') /* SQLAlchemy knows no postgres: */, ELASTICSEARCH: 'true', ELASTICSEARCH_URL: proxy.url, REDIS_URL: process.env.REDIS_URL!, CHECKPOINT_PATH: dir, LOG_LEVEL: 'INFO', CONSOLE_LOGGING_HANDLER_MIN_LEVEL: 'INFO' };
  const logTail = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-3000) : '');
  const exec = (cmd: string, argv: string[]): Promise<number> => new Promise((resolve) => {
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n$ ${cmd} ${argv.join(' ')}\n`);
    const child = spawn(path.join(bin, cmd), argv, { cwd: dir, env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.on('exit', (code) => resolve(code ?? 1));
  });
  let daemonChild: ChildProcess | undefined;
  let tornDown = false;
  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    if (daemonChild && daemonChild.exitCode === null) {
      daemonChild.kill('SIGTERM');
      await new Promise((r) => daemonChild!.once('exit', r));
    }
    await exec('bootstrap', ['--teardown', '--config', schemaFile]);
    await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name ILIKE $1 AND NOT active', [`%${index}%`]).catch(() => undefined);
    await es.indices.delete({ index }, { ignore: [404] });
    const redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true });
    await redis.connect();
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${index}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      if ((cursor = next) === '0') break;
    }
    await redis.quit();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push({ what: 'pgsync', fn: teardown });

  let t = performance.now();
  if ((await exec('bootstrap', ['--config', schemaFile])) !== 0) throw new Error(`pgsync bootstrap failed:\n${logTail()}`);
  const bootstrapSecs = (performance.now() - t) / 1000;
  const es0 = cpuSeconds(deps.esPid).process;
  t = performance.now();
  // pgsync's own CPU: one Python process (threads), read from /proc until it exits.
  const out = fs.openSync(logFile, 'a');
  const child = spawn(path.join(bin, 'pgsync'), ['--config', schemaFile], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let lastCpu = 0;
  const cpuPoll = setInterval(() => {
    const c = cpuSeconds(child.pid).process;
    if (Number.isFinite(c)) lastCpu = c;
  }, 200);
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(cpuPoll);
  if (code !== 0) throw new Error(`pgsync exited with ${code}:\n${logTail()}`);
  await es.indices.refresh({ index });
  const snapshotSecs = (performance.now() - t) / 1000;
  const esUs = ((cpuSeconds(deps.esPid).process - es0) * 1e6) / deps.documents;
  const { count } = await es.count({ index });
  if (count !== deps.documents) throw new Error(`pgsync: ${count} documents, expected ${deps.documents}:\n${logTail()}`);
  const one = await es.search({ index, size: 1, query: { ids: { values: ['1'] } } });
  return {
    bootstrapSecs, snapshotSecs, esUs, selfUs: (lastCpu * 1e6) / deps.documents, index, logTail, teardown,
    sample: JSON.stringify(one.hits.hits[0]?._source).slice(0, 400),
    daemon: () => {
      const o = fs.openSync(logFile, 'a');
      daemonChild = spawn(path.join(bin, 'pgsync'), ['--config', schemaFile, '--daemon'], { cwd: dir, env, stdio: ['ignore', o, o] });
      fs.closeSync(o);
      return daemonChild;
    },
  };
}

