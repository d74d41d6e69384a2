/**
 * Search API latency and throughput, side by side with the same queries sent straight to
 * Elasticsearch. Not a test. Caching does not exist yet, so every request is uncached.
 *
 *   npx tsx bench/api.bench.ts [--index software] [--seconds 10] [--concurrency 8,32]
 *
 * Needs the local stack with the demo data loaded (`npm start`). The API runs as its own
 * process, as in production, so the load generator does not share its event loop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPipelineConfig } from '../config/pipeline';
import { buildAnalyticsBody } from '../api/analytics/es-analytics';
import { ANALYTICS_PARAMS, parseAnalytics } from '../api/analytics/analytics-params';
import { Params } from '../api/http/params';
import { buildSearchBody } from '../api/search/query-builder';
import { SEARCH_PARAMS, parseSearch } from '../api/search/search-params';

const ROOT = path.join(__dirname, '..');
const stackEnv = path.join(ROOT, '.stack', 'stack.env');
for (const line of fs.existsSync(stackEnv) ? fs.readFileSync(stackEnv, 'utf8').split('\n') : []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { index: { type: 'string', default: 'software' }, seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '8,32' } } });
const ES = new URL(process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200');
const pipeline = loadPipelineConfig(path.join(ROOT, 'config', 'pipelines', 'demo.json'));
const index = pipeline.indexes.find((i) => i.name === args.index)!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const WORDS = ['zelda', 'mario', 'street fighter', 'sonic', 'tetris', 'final fantasy', 'pac man', 'castlevania', 'metroid', 'mega man', 'doom', 'golf', 'soccer', 'chess', 'space', 'dragon', 'star wars', 'racing', 'ninja', 'puzzle'];
const searchParams = (i: number) => ({ q: WORDS[i % WORDS.length]!, size: '10', facets: 'system' });
const analyticsParams = (i: number) => ({ metrics: 'count,avg(year)', groupBy: 'system', groupSize: '20', filter: `year:${1980 + (i % 15)}..${1990 + (i % 15)}` });

interface Target { method: string; host: string; port: number; path: (i: number) => string; body?: (i: number) => string }

function request(t: Target, i: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = t.body?.(i);
    const start = process.hrtime.bigint();
    const req = http.request({ agent, host: t.host, port: t.port, method: t.method, path: t.path(i), headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`status ${res.statusCode} for ${t.path(i)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(t: Target, concurrency: number, seconds: number): Promise<{ rps: number; p50: number; p99: number }> {
  for (let i = 0; i < 50; i++) await request(t, i); // warm up connections and caches
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) latencies.push(await request(t, n++));
  }));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: latencies.length / seconds, p50: q(0.5), p99: q(0.99) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const port = await freePort();
  const api = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'main.ts')], { cwd: ROOT, env: { ...process.env, API_PORT: String(port), API_URL: '', LOG_LEVEL: 'error' }, stdio: 'inherit' });
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200) break;
      if (i > 100) throw new Error('api did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const qs = (p: Record<string, string>) => new URLSearchParams(p).toString();
    const esBody = (kind: 'search' | 'analytics', i: number) =>
      JSON.stringify(kind === 'search' ? buildSearchBody(index, parseSearch(index, new Params(searchParams(i), SEARCH_PARAMS)).request) : buildAnalyticsBody(parseAnalytics(index, new Params(analyticsParams(i), ANALYTICS_PARAMS)).request));
    const targets: Array<[string, Target]> = [
      ['search via API', { method: 'GET', host: '127.0.0.1', port, path: (i) => `/v1/indexes/${index.name}/search?${qs(searchParams(i))}` }],
      ['search straight to ES', { method: 'POST', host: ES.hostname, port: Number(ES.port), path: () => `/${index.name}/_search`, body: (i) => esBody('search', i) }],
      ['analytics via API', { method: 'GET', host: '127.0.0.1', port, path: (i) => `/v1/indexes/${index.name}/analytics?${qs(analyticsParams(i))}` }],
      ['analytics straight to ES', { method: 'POST', host: ES.hostname, port: Number(ES.port), path: () => `/${index.name}/_search`, body: (i) => esBody('analytics', i) }],
    ];
    const seconds = Number(args.seconds);
    process.stdout.write('| scenario | concurrency | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n');
    for (const c of args.concurrency.split(',').map(Number)) {
      for (const [name, t] of targets) {
        const r = await load(t, c, seconds);
        process.stdout.write(`| ${name} | ${c} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |\n`);
      }
    }
  } finally {
    api.kill('SIGTERM');
    agent.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
