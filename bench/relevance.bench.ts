/**
 * Relevance benchmark: judged queries generated from the data (bench/relevance/judged-queries.ts)
 * against this API's ranking and against plain Elasticsearch queries, in one run, per dataset.
 * Not a test.
 *
 *   [STACK_DIR=…/.stack] npx tsx bench/relevance.bench.ts [--datasets mame,geonames] [--queries 300] [--seed 15]
 *
 * Each dataset is loaded into an index of its own (a unique name, dropped at the end), created by
 * the indexer's own mapping code (indexer/mappings.ts ensureIndex) from its pipeline spec, and
 * filled with the bulk API directly: the mapping and documents are what the pipeline would
 * write, without going through Postgres and Kafka. Datasets (bench/relevance/datasets.ts): the
 * demo's MAME software lists and GeoNames' 170k cities, both downloaded once into the cache
 * ($STACK_CACHE_DIR, default /var/cache/search-pipeline as root).
 *
 * Systems, the same queries for each:
 *   multi_match        `multi_match` over the searchable fields with their boosts, as a new user writes it
 *   multi_match+fuzzy  the same with `fuzziness: AUTO`
 *   before             this API's query before the ranking rules (simple_query_string, plus a
 *                      fuzzy multi_match with prefix_length 1 at boost 0.3)
 *   ours               the API's search (parseSearch + buildSearchBody through EsSearchBackend)
 * Suggestions: `multi_match` of type bool_prefix on the suggestion field (the API's /suggest
 * before) against the API's suggest.
 *
 * Reported: exact-match@1 (the item's exact name ranks an item of that name first), typo@5 (one
 * typo, a third of them in a word's first letter, finds it in the top 5; the first-letter share
 * apart), MRR over both (top 10), prefix precision (the share of suggestions that start with the
 * typed text, case aside), the share of suggestion lists in popularity order, and latencies
 * measured from this process (search p50/p99, suggestion p50/p99, and Elasticsearch's own `took`
 * for suggestions) after a warm-up, each query sent to every system in turn. On a shared machine the latencies move with other work (the
 * load average is printed), the relevance figures do not: compare ours with the baseline of the
 * same run.
 */
import path from 'node:path';
import os, { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import type { IndexSpec } from '../config/pipeline';
import { EsSearchBackend } from '../api/search/es-search-backend';
import { fieldPaths } from '../api/search/field-paths';
import { Params } from '../api/http/params';
import { SEARCH_PARAMS, parseSearch } from '../api/search/search-params';
import { SUGGEST_PARAMS, buildSuggestBody, parseSuggest } from '../api/search/suggest';
import { concreteIndexName, ensureIndex } from '../indexer/mappings';
import { DATASETS, openDataset, type Dataset } from './relevance/datasets';
import { judgedQueries, nameKey, typedKey, type Item, type Judged } from './relevance/judged-queries';

const { values: args } = parseArgs({
  options: {
    datasets: { type: 'string', default: DATASETS.join(',') },
    queries: { type: 'string', default: '300' },
    seed: { type: 'string', default: '15' },
    // For looking into the misses: keep the indexes (named by --keep) and reuse them on the next run.
    keep: { type: 'string' },
    misses: { type: 'boolean', default: false },
  },
});
const N = Number(args.queries);
const SEED = Number(args.seed);

loadStackEnv();
const es = new Client({ node: process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200' });
const backend = new EsSearchBackend(es, { timeoutMs: 10_000, cursorKeepAliveS: 60 });
const say = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

type Hit = { name: string };
interface System {
  name: string;
  search: (q: string) => Promise<Hit[]>;
}

async function main(): Promise<void> {
  const created: IndexSpec[] = [];
  const cleanup = async () => {
    for (const spec of created.splice(0)) await es.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] }).catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const tables: string[] = [];
  try {
    for (const which of args.datasets.split(',') as Array<(typeof DATASETS)[number]>) {
      const ds = await openDataset(which, `bench_relevance_${which}_${args.keep ?? process.pid}`, cacheDir(), say);
      if (!args.keep) created.push(ds.spec);
      const items = await load(ds);
      tables.push(await measure(ds, items));
    }
  } finally {
    await cleanup();
    await es.close();
  }
  console.log(`\nRelevance, ${N} judged queries of each kind, seed ${SEED}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores\n`);
  console.log(tables.join('\n\n'));
}

/** Creates the index with the indexer's mapping and bulk-loads the documents; returns the items. */
async function load(ds: Dataset): Promise<Array<Item & { popularity: number }>> {
  const t0 = Date.now();
  const reuse = args.keep !== undefined && (await es.indices.exists({ index: ds.spec.name }));
  if (reuse) {
    const items: Array<Item & { popularity: number }> = [];
    for await (const d of ds.docs()) items.push({ id: d.id, name: String(d.doc[ds.nameField] ?? ''), popularity: Number(d.doc[ds.popularityField] ?? 0) });
    say(`${ds.name}: reusing ${ds.spec.name}`);
    return items;
  }
  await ensureIndex(es, ds.spec);
  await es.indices.putSettings({ index: ds.spec.name, settings: { refresh_interval: '-1' } });
  const items: Array<Item & { popularity: number }> = [];
  let batch: Array<{ id: string; doc: Record<string, unknown> }> = [];
  const flush = async () => {
    const res = await es.bulk({ operations: batch.flatMap(({ id, doc }) => [{ index: { _index: ds.spec.name, _id: id } }, doc]) });
    if (res.errors) throw new Error(`bulk failed: ${JSON.stringify(res.items.find((i) => i.index?.error)?.index?.error)}`);
    batch = [];
  };
  for await (const d of ds.docs()) {
    items.push({ id: d.id, name: String(d.doc[ds.nameField] ?? ''), popularity: Number(d.doc[ds.popularityField] ?? 0) });
    batch.push(d);
    if (batch.length === 2000) await flush();
  }
  if (batch.length) await flush();
  await es.indices.putSettings({ index: ds.spec.name, settings: { refresh_interval: '1s' } });
  await es.indices.refresh({ index: ds.spec.name });
  await es.indices.forcemerge({ index: ds.spec.name, max_num_segments: 1 }).catch(() => undefined);
  say(`${ds.name}: ${items.length} documents in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return items;
}

async function measure(ds: Dataset, items: Array<Item & { popularity: number }>): Promise<string> {
  const { exact, typo, prefix } = judgedQueries(items, N, SEED);
  const popularityOf = new Map<string, number>();
  for (const it of items) popularityOf.set(nameKey(it.name), Math.max(popularityOf.get(nameKey(it.name)) ?? -Infinity, it.popularity));
  const fields = fieldPaths(ds.spec).filter((f) => f.spec.searchable);
  const boosted = fields.map((f) => (f.spec.boost === 1 ? f.path : `${f.path}^${f.spec.boost}`));
  const raw = (query: Record<string, unknown>) => async (): Promise<Hit[]> => {
    const res = await es.search<Record<string, unknown>>({ index: ds.spec.name, size: 10, _source: [ds.nameField], query: query as never });
    return res.hits.hits.map((h) => ({ name: String(h._source?.[ds.nameField] ?? '') }));
  };
  const systems: System[] = [
    { name: 'multi_match', search: (q) => raw({ multi_match: { query: q, fields: boosted } })() },
    { name: 'multi_match+fuzzy', search: (q) => raw({ multi_match: { query: q, fields: boosted, fuzziness: 'AUTO' } })() },
    {
      name: 'before',
      search: (q) =>
        raw({
          bool: {
            should: [
              { simple_query_string: { query: q, fields: boosted, default_operator: 'and', lenient: true } },
              { multi_match: { query: q, fields: boosted, type: 'best_fields', operator: 'and', fuzziness: 'AUTO', prefix_length: 1, max_expansions: 20, lenient: true, boost: 0.3 } },
            ],
            minimum_should_match: 1,
          },
        })(),
    },
    {
      name: 'ours',
      search: async (q) => {
        const req = parseSearch(ds.spec, new Params({ q, size: '10', highlight: 'false' }, SEARCH_PARAMS)).request;
        const res = await backend.search(ds.spec, req);
        return res.hits.map((h) => ({ name: String(h.document[ds.nameField] ?? '') }));
      },
    },
  ];
  const suggestField = ds.nameField;
  // Both sent as bodies, so Elasticsearch's own `took` is read beside the time seen here; ours is
  // the body the API's backend sends (buildSuggestBody), its answer read as EsSearchBackend does.
  const took: number[] = [];
  const suggestWith = async (body: Record<string, unknown>): Promise<string[]> => {
    const res = await es.search<Record<string, unknown>>({ index: ds.spec.name, ...body } as never);
    took.push(res.took);
    return [...new Set(res.hits.hits.map((h) => String(h._source?.[suggestField] ?? '')))];
  };
  const suggesters: Array<{ name: string; suggest: (q: string) => Promise<string[]> }> = [
    { name: 'multi_match', suggest: (q) => suggestWith({ size: 5, _source: [suggestField], query: { multi_match: { query: q, type: 'bool_prefix', fields: [suggestField], operator: 'and' } } }) },
    { name: 'ours', suggest: (q) => suggestWith(buildSuggestBody(parseSuggest(ds.spec, new Params({ q, size: '5' }, SUGGEST_PARAMS)))) },
  ];

  // Interleaved: each query goes to every system in turn, so a burst of other work on the
  // shared machine falls on all of them alike and their latencies compare.
  const judged = [...exact, ...typo];
  for (const j of judged.slice(0, 30)) for (const sys of systems) await safe(sys.search(j.q)); // warm-up
  const ranks = new Map(systems.map((s) => [s.name, [] as number[]]));
  const times = new Map(systems.map((s) => [s.name, [] as number[]]));
  for (const j of judged) {
    for (const sys of systems) {
      const t = process.hrtime.bigint();
      const hits = await safe(sys.search(j.q));
      times.get(sys.name)!.push(Number(process.hrtime.bigint() - t) / 1e6);
      const rank = hits.findIndex((h) => nameKey(h.name) === j.key);
      ranks.get(sys.name)!.push(rank);
      if (args.misses && sys.name === 'ours' && (j.kind === 'exact' ? rank !== 0 : rank < 0 || rank >= 5)) say(`miss ${j.kind} ${JSON.stringify(j.q)} for ${JSON.stringify(j.key)}: ${JSON.stringify(hits.slice(0, 5).map((h) => h.name))}`);
    }
  }
  for (const p of prefix.slice(0, 30)) for (const sug of suggesters) await safe(sug.suggest(p)); // warm-up
  const sugStats = new Map(suggesters.map((s) => [s.name, { starts: 0, total: 0, ordered: 0, lists: 0, times: [] as number[], took: [] as number[] }]));
  for (const p of prefix) {
    for (const sug of suggesters) {
      const st = sugStats.get(sug.name)!;
      took.length = 0;
      const t = process.hrtime.bigint();
      const out = await safe(sug.suggest(p));
      st.times.push(Number(process.hrtime.bigint() - t) / 1e6);
      st.took.push(...took);
      st.total += out.length;
      st.starts += out.filter((x) => typedKey(x).startsWith(typedKey(p))).length;
      if (out.length) {
        st.lists++;
        const pops = out.map((x) => popularityOf.get(nameKey(x)) ?? -Infinity);
        if (pops.every((v, i) => i === 0 || v <= pops[i - 1]!)) st.ordered++;
      }
    }
  }
  const rows = systems.map((sys) => {
    const r = ranks.get(sys.name)!;
    const tm = times.get(sys.name)!;
    const score = (pick: (j: Judged) => boolean, top: number) => pct(judged.filter((j, i) => pick(j) && r[i]! >= 0 && r[i]! < top).length, judged.filter(pick).length);
    const mrr = r.reduce((a, x) => a + (x >= 0 ? 1 / (x + 1) : 0), 0) / r.length;
    const st = sugStats.get(sys.name);
    const sugCols = st ? [`${pct(st.starts, st.total)} (${st.total})`, pct(st.ordered, st.lists), `${q(st.times, 0.5)} / ${q(st.times, 0.99)}`, `${q(st.took, 0.5)} / ${q(st.took, 0.99)}`] : ['', '', '', ''];
    const row = `| ${sys.name} | ${score((j) => j.kind === 'exact', 1)} | ${score((j) => j.kind === 'typo', 5)} | ${score((j) => j.kind === 'typo' && j.firstLetter, 5)} | ${mrr.toFixed(3)} | ${q(tm, 0.5)} / ${q(tm, 0.99)} | ${sugCols.join(' | ')} |`;
    say(`${ds.name}: ${row}`);
    return row;
  });
  return [
    `### ${ds.name}: ${items.length} documents, popularity ${ds.popularityField}`,
    '',
    '| system | exact@1 | typo@5 | typo@5 first letter | MRR | search p50 / p99 ms | suggestions starting with the text (count) | in popularity order | suggest p50 / p99 ms | suggest took p50 / p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

let failures = 0;
/** A query the API refuses (e.g. `Q*bert` is a 400: a wildcard must end a word) counts as no hits. */
async function safe<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (failures++ < 5) say(`query failed (counted as no hits): ${(err as Error).message}`);
    return [];
  }
}

function q(times: number[], p: number): string {
  const s = [...times].sort((a, b) => a - b);
  return (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(1);
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)} %` : 'n/a';
}

function cacheDir(): string {
  const fromEnv = process.env.STACK_CACHE_DIR?.trim();
  if (fromEnv) return fromEnv;
  return process.getuid?.() === 0 ? '/var/cache/search-pipeline' : path.join(homedir(), '.cache', 'search-pipeline');
}

function loadStackEnv(): void {
  const file = path.join(process.env.STACK_DIR ?? path.join(__dirname, '..', '.stack'), 'stack.env');
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
