/**
 * The indexer's per-event work of this checkout against another one (a commit unpacked with
 * `git archive <commit> | tar -x -C <dir>` and node_modules linked in), in one process: decode
 * and map batches of 4000 events (prepareBatch), cut them into 1000-document bulks and write them
 * through EsDocumentSink to a stand-in client that answers each bulk as Elasticsearch does with
 * the sink's filter_path (every item 201). No Kafka, no sockets: the CPU of this code alone, the
 * two trees in alternating rounds so a loaded machine weighs on both alike. Not a test.
 *
 *   npx tsx bench/indexer-prepare-ab.bench.ts --base /tmp/base [--events 100000] [--rounds 10]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/logger';

const { values: args } = parseArgs({ options: { base: { type: 'string' }, events: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '10' } } });
if (!args.base) throw new Error('--base <dir>: the checkout to compare against (with node_modules)');
const n = Number(args.events);

interface Tree {
  prepareBatch: typeof import('../indexer/batch-processor').prepareBatch;
  EsDocumentSink: typeof import('../indexer/sink/es-document-sink').EsDocumentSink;
  chunkOps: typeof import('../indexer/transform/chunk-ops').chunkOps;
  parsePipelineConfig: typeof import('../config/pipeline').parsePipelineConfig;
}
/* eslint-disable @typescript-eslint/no-require-imports -- the same modules from two trees */
const load = (dir: string): Tree => ({
  ...(require(path.join(dir, 'indexer/batch-processor')) as Pick<Tree, 'prepareBatch'>),
  ...(require(path.join(dir, 'indexer/sink/es-document-sink')) as Pick<Tree, 'EsDocumentSink'>),
  ...(require(path.join(dir, 'indexer/transform/chunk-ops')) as Pick<Tree, 'chunkOps'>),
  ...(require(path.join(dir, 'config/pipeline')) as Pick<Tree, 'parsePipelineConfig'>),
});
/* eslint-enable @typescript-eslint/no-require-imports */
const trees = { base: load(path.resolve(args.base)), this: load(path.join(__dirname, '..')) };

// The ~300 B documents of bench/indexer.bench.ts, as ingest writes their events.
const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const messages = Array.from({ length: n }, (_, i) => {
  let notes = '';
  for (let w = i; notes.length < 210; w += 5) notes += `${words[w % 12]} `;
  const after = { title: `${words[i % 12]} ${words[(i * 7) % 12]} ${i}`, notes, year: 1950 + (i % 70), n: i };
  const event = { v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: String(i + 1) }, after, lsn: String(1e6 + i), commitLsn: String(1e6 + i), txId: 1, ts: new Date().toISOString() };
  return { offset: String(i), value: Buffer.from(JSON.stringify(event)) };
});

// Parsed from text each time, as the client does with the response.
const answers = new Map<number, string>();
const stubEs = {
  bulk: async ({ body }: { body: Buffer }) => {
    let lines = 0;
    for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) lines++;
    let text = answers.get(lines / 2);
    if (!text) answers.set(lines / 2, (text = JSON.stringify({ items: Array.from({ length: lines / 2 }, () => ({ index: { status: 201 } })) })));
    return JSON.parse(text) as unknown;
  },
};

const FIELDS = { title: { type: 'text', searchable: true }, notes: { type: 'text', searchable: true }, year: { type: 'integer' }, n: { type: 'long' } };
async function round(tree: Tree): Promise<number> {
  const indexes = tree.parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: FIELDS } } })).indexes;
  const sink = new tree.EsDocumentSink(stubEs as never, silentLogger, { maxUnknownRetries: 3 });
  const since = process.cpuUsage();
  for (let i = 0; i < n; i += 4000) {
    for (const step of tree.prepareBatch('t', 0, messages.slice(i, i + 4000), indexes).steps) {
      if ('ops' in step) for (const chunk of tree.chunkOps(step.ops, 1000)) await sink.write(chunk, async () => undefined);
    }
  }
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / n;
}

async function main(): Promise<void> {
  const us: Record<keyof typeof trees, number[]> = { base: [], this: [] };
  await round(trees.base); // both warm before the clock counts
  await round(trees.this);
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const name of r % 2 ? (['this', 'base'] as const) : (['base', 'this'] as const)) us[name].push(await round(trees[name]));
  }
  const median = (a: readonly number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const ratios = us.this.map((t, i) => t / us.base[i]!);
  console.log(`base: ${us.base.map((x) => x.toFixed(2)).join(' ')} µs CPU per event, median ${median(us.base).toFixed(2)}`);
  console.log(`this: ${us.this.map((x) => x.toFixed(2)).join(' ')} µs CPU per event, median ${median(us.this).toFixed(2)}`);
  console.log(`this / base per round: ${ratios.map((x) => x.toFixed(2)).join(' ')}, median ${median(ratios).toFixed(2)}; of the fastest rounds (the least disturbed) ${(Math.min(...us.this) / Math.min(...us.base)).toFixed(2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
