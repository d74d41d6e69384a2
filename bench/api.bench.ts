/**
 * Search API latency and throughput with autocannon on loopback, side by side with the same
 * queries sent straight to Elasticsearch, in one run. Not a test.
 *
 *   npx tsx bench/api.bench.ts [--index software] [--seconds 10] [--connections 16] [--cached-rate 1000] [--generate 130000] [--priority=-10]
 *
 * Scenarios, each against the API and against Elasticsearch directly with the same query bodies:
 *   - cached searches: an API with its result cache on, warmed (every answer a hit)
 *   - uncached searches and uncached aggregations: an API with API_CACHE_MAX_ENTRIES=0
 *   - aggregation misses: the API with its default cache (memory, Redis, cross-instance lock),
 *     every aggregation new to it, as unique analytics are in production
 * Every aggregation of the whole run is unique (one counter for all runs and targets): a body
 * Elasticsearch already answered would come from its shard request cache, and whichever run
 * came second would measure that cache instead of the query.
 * Beside rates and latencies, each run reports the CPU time per request of the API process and
 * of Elasticsearch (from /proc; Elasticsearch's rate in the idle second before each run, other
 * users of a shared cluster, subtracted): on a shared 2-core machine the API's CPU is taken from
 * Elasticsearch, so api CPU ÷ Elasticsearch CPU per request is the overhead that survives noise.
 * For each: the highest sustained rate (autocannon, unthrottled, `--connections` connections, no
 * errors), and p50/p99 at a steady fixed rate (cached: `--cached-rate`; uncached: half of
 * Elasticsearch's highest rate for that query kind, the same rate for the API and Elasticsearch),
 * sent by api-paced-load.ts because autocannon's rate limit sends each second's quota in a burst.
 *
 * Needs the local stack. Uses the demo index `software` (`npm start` loads it); when it is
 * absent, builds a uniquely named index of `--generate` generated documents with the demo mapping
 * and drops it afterwards. The APIs run as their own processes, as in production, so the load
 * generator does not share their event loop; on a 2-core machine they still share the CPUs with
 * Elasticsearch and autocannon, so absolute numbers are lower than on a real deployment.
 * autocannon records latency in whole milliseconds; the paced runs to a hundredth. `--priority=N`
 * (root, N < 0; write --priority=-10) runs this process and the APIs at nice N, to see past other work on a shared
 * machine; Elasticsearch keeps its priority.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { loadPipelineConfig, parsePipelineConfig, type IndexSpec } from '../config/pipeline';
import { serviceNodeArgs } from '../config/service-runtime';
import { freePort } from '../e2e/support/processes';
import { cpuSeconds, stackPid } from './proc-stats';
import { buildAnalyticsBody } from '../api/analytics/es-analytics';
import { ANALYTICS_PARAMS, parseAnalytics } from '../api/analytics/analytics-params';
import { Params } from '../api/http/params';
import { buildSearchBody } from '../api/search/query-builder';
import { SEARCH_PARAMS, parseSearch } from '../api/search/search-params';
import { concreteIndexName, ensureIndex } from '../indexer/mappings';
import { pacedLoad } from './api-paced-load';

const ROOT = path.join(__dirname, '..');
const stackEnv = path.join(ROOT, '.stack', 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({
  options: {
    index: { type: 'string', default: 'software' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    'cached-rate': { type: 'string', default: '1000' },
    generate: { type: 'string', default: '130000' },
    priority: { type: 'string' },
  },
});
const ES_URL = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const es = new Client({ node: ES_URL });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const RUN_ID = `${Date.now().toString(36)}${process.pid}`;

const WORDS = ['zelda', 'mario', 'street fighter', 'sonic', 'tetris', 'final fantasy', 'pac man', 'castlevania', 'metroid', 'mega man', 'doom', 'golf', 'soccer', 'chess', 'space', 'dragon', 'star wars', 'racing', 'ninja', 'puzzle'];
const searchParams = (i: number) => ({ q: WORDS[i % WORDS.length]!, size: '10', facets: 'system' });
// Unique per request (the rom_bytes bound): Elasticsearch caches size=0 aggregation answers per
// shard, which would otherwise answer every repeat in ~0.1 ms and measure only its cache. The
// counter is shared by every run and target, so no run repeats a body an earlier one sent.
const analyticsParams = (i: number) => ({ metrics: 'count,avg(year)', groupBy: 'system', groupSize: '20', filter: `year:${1980 + (i % 15)}..${1990 + (i % 15)} rom_bytes:..${1_000_000_000 + i}` });
let aggregationSeq = 0;

type Req = { method: 'GET' | 'POST'; path: string; body?: string; headers?: Record<string, string> };
type Gen = (i: number) => Req;
interface Stats { rps: number; p50: number; p99: number; errors: number; overloaded?: boolean; cpu?: { api?: number; es?: number } }

/** CPU time (user + system) of a process so far, ms; undefined where /proc cannot tell. */
function cpuMs(pid: number | undefined): number | undefined {
  const s = cpuSeconds(pid).process;
  return Number.isFinite(s) ? s * 1000 : undefined;
}

/** The highest rate: `--connections` connections, each sending its next request on each answer. */
async function cannon(url: string, next: Gen): Promise<Stats> {
  let i = 0;
  const first = next(0);
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ ...first, setupRequest: (req: Record<string, unknown>) => ({ ...req, ...next(i++) }) } as never],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

async function startApi(pipelineFile: string, env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, serviceNodeArgs('api'), {
    cwd: ROOT,
    env: { ...process.env, PIPELINE_CONFIG: pipelineFile, API_PORT: String(port), API_URL: '', API_AUTH: 'off', LOG_LEVEL: 'error', API_REDIS_PREFIX: `bench-${RUN_ID}:`, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (args.priority !== undefined && proc.pid) os.setPriority(proc.pid, Number(args.priority));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) return { url, proc };
    if (i > 200) throw new Error('api did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The demo index if it is loaded, else a generated one of similar size with the same mapping. */
async function benchIndex(): Promise<{ spec: IndexSpec; pipelineFile: string; drop: () => Promise<void> }> {
  const demoFile = path.join(ROOT, 'config', 'pipelines', 'demo.json');
  const demo = loadPipelineConfig(demoFile).indexes.find((i) => i.name === 'software')!;
  if (args.index === 'software' && (await es.indices.exists({ index: 'software' }))) {
    const { count } = await es.count({ index: 'software' });
    if (count > 1000) {
      process.stdout.write(`index: software (demo data, ${count} documents)\n`);
      return { spec: demo, pipelineFile: demoFile, drop: async () => undefined };
    }
  }
  const name = `bench_api_${RUN_ID}`;
  const raw = JSON.parse(fs.readFileSync(demoFile, 'utf8')) as { indexes: Record<string, unknown> };
  const json = JSON.stringify({ version: 1, indexes: { [name]: raw.indexes.software } });
  const spec = parsePipelineConfig(json).indexes[0]!;
  const pipelineFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'api-bench-')), 'pipeline.json');
  fs.writeFileSync(pipelineFile, json);
  await ensureIndex(es, spec);
  const total = Number(args.generate);
  const systems = ['nes', 'snes', 'megadriv', 'gameboy', 'psx', 'sms', 'cpc_flop', 'spectrum_cass', 'c64_cass', 'amiga_flop'];
  const extra = ['adventure', 'quest', 'legend', 'world', 'deluxe', 'pro', 'turbo', 'ii', 'iii', 'special', 'edition', 'kids', 'classic', 'arcade'];
  for (let start = 0; start < total; start += 2000) {
    const ops: unknown[] = [];
    for (let i = start; i < Math.min(total, start + 2000); i++) {
      const title = `${WORDS[i % WORDS.length]} ${extra[(i * 7) % extra.length]} ${extra[(i * 13) % extra.length]}`;
      const year = 1975 + (i % 30);
      ops.push({ index: { _index: spec.name, _id: `g${i}` } }, { title, name: `g${i}`, system: systems[i % systems.length], system_name: systems[i % systems.length], publisher: `Publisher ${i % 300}`, supported: i % 5 ? 'yes' : 'no', year, release_date: `${year}-0${1 + (i % 9)}-1${i % 9}`, rom_bytes: 1024 * (i % 4096) });
    }
    const res = await es.bulk({ operations: ops as never });
    if (res.errors) throw new Error('bulk load of the generated index failed');
  }
  await es.indices.refresh({ index: spec.name });
  process.stdout.write(`index: ${name} (generated, ${total} documents with the demo mapping)\n`);
  return { spec, pipelineFile, drop: async () => void (await es.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] })) };
}

/** The cached API's Redis entries of this run (the aggregation misses leave thousands). */
async function dropCacheEntries(): Promise<void> {
  const url = process.env.API_REDIS_URL ?? process.env.REDIS_URL;
  if (!url) return;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bench-${RUN_ID}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (err) {
    process.stderr.write(`could not drop the bench's cache entries (they expire with their TTL): ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    redis.disconnect();
  }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

async function main(): Promise<void> {
  if (args.priority !== undefined) os.setPriority(Number(args.priority));
  const { spec, pipelineFile, drop } = await benchIndex();
  const cached = await startApi(pipelineFile, {});
  const uncached = await startApi(pipelineFile, { API_CACHE_MAX_ENTRIES: '0' });
  try {
    const qs = (p: Record<string, string>) => new URLSearchParams(p).toString();
    const apiSearch: Gen = (i) => ({ method: 'GET', path: `/v1/indexes/${spec.name}/search?${qs(searchParams(i))}` });
    const apiAnalytics: Gen = () => ({ method: 'GET', path: `/v1/indexes/${spec.name}/analytics?${qs(analyticsParams(aggregationSeq++))}` });
    const esReq = (body: unknown): Req => ({ method: 'POST', path: `/${spec.name}/_search`, body: JSON.stringify({ ...(body as object), timeout: '5000ms' }), headers: { 'content-type': 'application/json' } });
    const esSearchBodies = WORDS.map((_, i) => esReq(buildSearchBody(spec, parseSearch(spec, new Params(searchParams(i), SEARCH_PARAMS)).request)));
    const esSearch: Gen = (i) => esSearchBodies[i % esSearchBodies.length]!;
    const esAnalytics: Gen = () => esReq(buildAnalyticsBody(parseAnalytics(spec, new Params(analyticsParams(aggregationSeq++), ANALYTICS_PARAMS)).request));

    // Warm up: JIT, connections, Elasticsearch's caches, and the cached API's result cache.
    for (const [url, gen] of [[cached.url, apiSearch], [cached.url, apiAnalytics], [uncached.url, apiSearch], [uncached.url, apiAnalytics], [ES_URL, esSearch], [ES_URL, esAnalytics]] as const) {
      for (let i = 0; i < WORDS.length; i++) {
        const r = gen(i);
        const res = await fetch(url + r.path, { method: r.method, ...(r.body ? { body: r.body, headers: r.headers } : {}) });
        if (res.status !== 200) throw new Error(`warm-up ${r.path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
        await res.arrayBuffer().catch(() => undefined);
      }
    }

    const rows: Array<{ scenario: string; target: string; mode: string; s: Stats }> = [];
    const elasticsearchPid = stackPid('elasticsearch');
    const run = async (scenario: string, target: string, mode: string, url: string, gen: Gen, rate?: number) => {
      await new Promise((r) => setTimeout(r, 1_000)); // let the previous run's work drain
      // Elasticsearch's CPU while this bench sends nothing: other users of a shared cluster, subtracted below.
      const idleStart = { es: cpuMs(elasticsearchPid), at: performance.now() };
      await new Promise((r) => setTimeout(r, 1_000));
      const background = idleStart.es === undefined ? 0 : ((cpuMs(elasticsearchPid) ?? idleStart.es) - idleStart.es) / (performance.now() - idleStart.at);
      const apiPid = url === cached.url ? cached.proc.pid : url === uncached.url ? uncached.proc.pid : undefined;
      const before = { api: cpuMs(apiPid), es: cpuMs(elasticsearchPid), at: performance.now() };
      const s: Stats = rate ? await pacedLoad(url, gen, rate, SECONDS) : await cannon(url, gen);
      const requests = s.rps * SECONDS;
      const per = (a?: number, b?: number, minus = 0) => (a !== undefined && b !== undefined && requests > 0 ? Math.max(0, b - a - minus) / requests : undefined);
      s.cpu = { api: per(before.api, cpuMs(apiPid)), es: per(before.es, cpuMs(elasticsearchPid), background * (performance.now() - before.at)) };
      rows.push({ scenario, target, mode, s });
      const cpu = [s.cpu.api !== undefined ? `api ${s.cpu.api.toFixed(3)}` : '', s.cpu.es !== undefined ? `es ${s.cpu.es.toFixed(3)}` : ''].filter(Boolean).join(', ');
      process.stdout.write(`  ${scenario} ${target} ${mode}: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, errors ${s.errors}${cpu ? `, CPU ms/request ${cpu}` : ''}${s.overloaded ? ' (OVERLOADED: cannot sustain this rate)' : ''}\n`);
      return s;
    };

    process.stdout.write(`\nhighest rate: autocannon, ${SECONDS} s per run, ${CONNECTIONS} connections\n`);
    const esSearchMax = await run('search', 'elasticsearch', 'max', ES_URL, esSearch);
    await run('cached search', 'api', 'max', cached.url, apiSearch);
    const apiSearchMax = await run('uncached search', 'api', 'max', uncached.url, apiSearch);
    const esAggMax = await run('aggregation', 'elasticsearch', 'max', ES_URL, esAnalytics);
    const apiAggMax = await run('uncached aggregation', 'api', 'max', uncached.url, apiAnalytics);
    const apiMissMax = await run('aggregation miss', 'api', 'max', cached.url, apiAnalytics);
    // Latency at one steady rate per query kind, the same for every target: half of the lower maximum.
    const cachedRate = Number(args['cached-rate']);
    const searchRate = Math.max(5, Math.floor(Math.min(esSearchMax.rps, apiSearchMax.rps) / 2));
    const aggRate = Math.max(5, Math.floor(Math.min(esAggMax.rps, apiAggMax.rps, apiMissMax.rps) / 2));
    process.stdout.write(`\nlatency at a steady rate (paced, ${SECONDS} s per run)\n`);
    // Three times: on a shared 2-core machine one run's tail can be another process's stall.
    const cachedRuns: Stats[] = [];
    for (let k = 0; k < 3; k++) cachedRuns.push(await run('cached search', 'api', `@${cachedRate}/s #${k + 1}`, cached.url, apiSearch, cachedRate));
    const byP99 = [...cachedRuns].sort((a, b) => a.p99 - b.p99);
    rows.push({ scenario: 'cached search', target: 'api', mode: `@${cachedRate}/s`, s: byP99[1]! }); // the median run
    await run('search', 'elasticsearch', `@${searchRate}/s`, ES_URL, esSearch, searchRate);
    await run('uncached search', 'api', `@${searchRate}/s`, uncached.url, apiSearch, searchRate);
    await run('cached search', 'api', `@${searchRate}/s`, cached.url, apiSearch, searchRate);
    await run('aggregation', 'elasticsearch', `@${aggRate}/s`, ES_URL, esAnalytics, aggRate);
    await run('uncached aggregation', 'api', `@${aggRate}/s`, uncached.url, apiAnalytics, aggRate);
    await run('aggregation miss', 'api', `@${aggRate}/s`, cached.url, apiAnalytics, aggRate);

    const metrics = await (await fetch(`${cached.url}/metrics`)).text();
    const count = (result: string) => Number(new RegExp(`api_cache_responses_total\\{route="search",result="${result}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    process.stdout.write(`\ncached API: ${count('hit')} hits, ${count('miss')} misses (hit ratio ${(count('hit') / Math.max(1, count('hit') + count('miss'))).toFixed(4)})\n`);
    // The API's own view of the same requests (its histogram's buckets), apart from client-side scheduling.
    const bucket = (le: string) => Number(new RegExp(`api_request_seconds_bucket\\{le="${le}",method="GET",route="/v1/indexes/:index/search",status="200"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    const all = bucket('\\+Inf');
    process.stdout.write(`cached API, server side (api_request_seconds, every search it answered): ${((100 * bucket('0.001')) / all).toFixed(2)}% ≤ 1 ms, ${((100 * bucket('0.01')) / all).toFixed(3)}% ≤ 10 ms\n`);
    process.stdout.write(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} on ${os.cpus().length} CPUs\n\n`);

    const ms = (v?: number) => (v === undefined ? '' : v.toFixed(3));
    process.stdout.write('| scenario | target | mode | req/s | p50 ms | p99 ms | errors | API CPU ms/req | ES CPU ms/req |\n|---|---|---|---|---|---|---|---|---|\n');
    for (const r of rows) process.stdout.write(`| ${r.scenario} | ${r.target} | ${r.mode} | ${fmt(r.s.rps)} | ${fmt(r.s.p50)} | ${fmt(r.s.p99)} | ${r.s.errors}${r.s.overloaded ? ' overloaded' : ''} | ${ms(r.s.cpu?.api)} | ${ms(r.s.cpu?.es)} |\n`);
    const find = (scenario: string, target: string, mode: string) => rows.find((r) => r.scenario === scenario && r.target === target && r.mode === mode)!.s;
    const compare = (label: string, api: Stats, direct: Stats) =>
      process.stdout.write(`| ${label} | ${ratio(api.rps, direct.rps)} | ${ratio(api.p50, direct.p50)} | ${ratio(api.p99, direct.p99)} |\n`);
    process.stdout.write('\nAPI ÷ Elasticsearch, same queries (req/s above 1 and latency below 1 favour the API; uncached overhead = ratio − 1)\n\n| comparison | req/s | p50 | p99 |\n|---|---|---|---|\n');
    compare('cached search, max', find('cached search', 'api', 'max'), esSearchMax);
    compare(`cached search @${searchRate}/s`, find('cached search', 'api', `@${searchRate}/s`), find('search', 'elasticsearch', `@${searchRate}/s`));
    compare('uncached search, max', apiSearchMax, esSearchMax);
    compare(`uncached search @${searchRate}/s`, find('uncached search', 'api', `@${searchRate}/s`), find('search', 'elasticsearch', `@${searchRate}/s`));
    compare('uncached aggregation, max', apiAggMax, esAggMax);
    compare(`uncached aggregation @${aggRate}/s`, find('uncached aggregation', 'api', `@${aggRate}/s`), find('aggregation', 'elasticsearch', `@${aggRate}/s`));
    compare('aggregation miss (cache on), max', apiMissMax, esAggMax);
    compare(`aggregation miss (cache on) @${aggRate}/s`, find('aggregation miss', 'api', `@${aggRate}/s`), find('aggregation', 'elasticsearch', `@${aggRate}/s`));
    // CPU per request at the same steady rate: what the API adds to each query, against what Elasticsearch spends on it.
    const cpuShare = (label: string, api: Stats, direct: Stats) =>
      api.cpu?.api !== undefined && direct.cpu?.es ? process.stdout.write(`${label}: API ${api.cpu.api.toFixed(3)} ms, Elasticsearch ${direct.cpu.es.toFixed(3)} ms per request → API CPU = ${((100 * api.cpu.api) / direct.cpu.es).toFixed(0)}% of Elasticsearch's\n`) : undefined;
    process.stdout.write('\n');
    cpuShare(`uncached search @${searchRate}/s`, find('uncached search', 'api', `@${searchRate}/s`), find('search', 'elasticsearch', `@${searchRate}/s`));
    cpuShare(`uncached aggregation @${aggRate}/s`, find('uncached aggregation', 'api', `@${aggRate}/s`), find('aggregation', 'elasticsearch', `@${aggRate}/s`));
    cpuShare(`aggregation miss (cache on) @${aggRate}/s`, find('aggregation miss', 'api', `@${aggRate}/s`), find('aggregation', 'elasticsearch', `@${aggRate}/s`));
    const c = find('cached search', 'api', `@${cachedRate}/s`);
    process.stdout.write(`\ncached p99 at ${cachedRate} req/s in the three runs: ${cachedRuns.map((r) => fmt(r.p99)).join(', ')} ms`);
    process.stdout.write(`\naim: cached p99 < 10 ms at ${cachedRate} req/s → median run p99 ${fmt(c.p99)} ms at ${fmt(c.rps)} req/s: ${c.p99 < 10 && c.rps >= cachedRate * 0.95 ? 'met' : 'NOT met'}\n`);
  } finally {
    cached.proc.kill('SIGTERM');
    uncached.proc.kill('SIGTERM');
    await dropCacheEntries();
    await drop();
    await es.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
