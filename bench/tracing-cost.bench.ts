/**
 * CPU per event of tracing (docs/operations.md, "Traces"), tracing off against on at two sample
 * ratios, in one run: each event goes through the code paths that carry spans in ingest (decode,
 * produce: planSends with the traceparent header, record batch encoding) and the indexer
 * (prepareBatch reading the header, writeBatch's batch and bulk spans into a sink that only
 * answers, the searchable spans ended by a refresh's). No Postgres, Kafka or Elasticsearch: only
 * the work tracing adds varies between the modes. "on" exports as TRACING=file does (JSON lines
 * into a temporary file), so serialisation and the write are counted too. Not a test.
 *
 *   npx tsx bench/tracing-cost.bench.ts [--events 40000] [--rounds 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { parsePipelineConfig } from '../config/pipeline';
import { JsonLinesSpanExporter } from '../core/trace-file-exporter';
import { noTracing, tracingWith, type Tracing } from '../core/tracing';
import { ChangeTraces } from '../ingest/change-traces';
import { planSends } from '../ingest/sink/kafka-messages';
import { encodeSend } from '../ingest/sink/wire/wire-message-producer';
import { toChangeEvents, type DecodedChange, type RelationInfo, type TxContext } from '../ingest/transform/to-change-events';
import { prepareBatch, writeBatch, type InboundMessage } from '../indexer/batch-processor';
import { SearchableSpans } from '../indexer/watermark/searchable-spans';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '5' } } });
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
// A flush of the commit batcher and a fetched batch of the indexer.
const BATCH = 500;

const relation: RelationInfo = { schema: 'public', name: 'bench_traces', keyColumns: ['id'], replicaIdentity: 'default', columns: [{ name: 'id', typeOid: 23 }, { name: 'a', typeOid: 23 }, { name: 'b', typeOid: 25 }, { name: 'pad', typeOid: 25 }] };
const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { bench_traces: { table: 'bench_traces', fields: { a: { type: 'integer' }, b: { type: 'text', searchable: true } } } } }));
const layout = { partitions: () => 3, maxMessageBytes: () => 1_048_588 };
const tx: TxContext = { xid: 7777, commitLsn: '4000900000', ts: '2026-11-23T09:00:00.000Z' };
const pad = 'f'.repeat(200);
const sink = { write: async () => [] };
const limit = pLimit(4);
// Every span exported: a service's queue of 2048 drops some at ratio 1.0 and full speed (a
// dropped span costs less than an exported one, so that would flatter "on").
const QUEUE = { service: 'bench', sampleRatio: 0, exportDelayMs: 100, maxQueueSize: 10_000_000 };

async function run(tracing: Tracing): Promise<number> {
  const traces = tracing.on ? new ChangeTraces(tracing) : undefined;
  const spans = tracing.on ? new SearchableSpans(tracing) : undefined;
  const deps = { indexes: pipeline.indexes, sink, deadLetters: async () => undefined, truncate: async () => [], maxDocsPerBulk: 1000, limit, keepAlive: async () => undefined, readCurrent: async () => [], tracing, searchable: spans && ((s: Parameters<SearchableSpans['add']>[0]) => spans.add(s)) };
  const before = process.cpuUsage();
  let bytes = 0;
  for (let from = 0; from < EVENTS; from += BATCH) {
    // ingest: decode (stream-handler.ts), then one produce per flush (kafka-publisher.ts).
    const events = [];
    for (let i = from; i < from + BATCH; i++) {
      const change: DecodedChange = { tag: 'insert', relation, new: { id: String(i), a: String(i % 1000), b: `title ${i}`, pad } };
      const lsn = String(4_000_000_000 + i * 80);
      const span = traces?.on ? traces.startDecode() : undefined;
      const out = toChangeEvents(change, lsn, tx);
      if (span) traces!.decoded(span, out);
      events.push(...out);
    }
    const traced = traces?.on ? traces.tracesOf(events) : undefined;
    const produce = traced?.length ? tracing.start('ingest.produce', { kind: 'producer', links: traced }) : undefined;
    const inbound: InboundMessage[] = [];
    for (const send of planSends(events, 'cdc', layout, undefined, produce ? traces!.headersOf : undefined).sends) {
      for (const b of encodeSend([...send.values()].flat())) bytes += b.records.length;
      // What the indexer's consumer hands over: the values, and the header where there is one.
      for (const list of send.values()) for (const m of list) inbound.push({ offset: String(inbound.length), value: Buffer.from(m.value), ...(m.headers ? { headers: { traceparent: Buffer.from(m.headers.traceparent!) } } : {}) });
    }
    produce?.end();
    // indexer: one batch, then the watermark task's refresh.
    const result = await writeBatch(prepareBatch('cdc.public.bench_traces', 0, inbound, pipeline.indexes), deps);
    bytes += result.ops;
    if (spans) {
      const taken = spans.take();
      spans.refreshSpan(taken, ['bench_traces'])?.end();
      spans.searchable(taken);
    }
    await new Promise((r) => setImmediate(r)); // lets the span processor's timer export, as I/O waits do in a service
  }
  await tracing.shutdown(); // what is still queued is exported inside the measurement
  if (bytes === 0) throw new Error('nothing encoded');
  const used = process.cpuUsage(before);
  return (used.user + used.system) / EVENTS;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-traces-'));
  const modes: Array<[string, () => Tracing]> = [
    ['off', () => noTracing],
    // The on path's machinery alone: nothing is sampled, so no span is recorded.
    ['on, ratio 0', () => tracingWith(new JsonLinesSpanExporter(path.join(dir, 'r0.jsonl')), QUEUE)],
    ['on, ratio 0.01', () => tracingWith(new JsonLinesSpanExporter(path.join(dir, 'r001.jsonl')), { ...QUEUE, sampleRatio: 0.01 })],
    ['on, ratio 1.0', () => tracingWith(new JsonLinesSpanExporter(path.join(dir, 'r1.jsonl')), { ...QUEUE, sampleRatio: 1 })],
  ];
  for (const [, make] of modes) await run(make()); // warm-up (JIT)
  const best = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, the least disturbed round of each: the machine's load drifts between them alike.
    for (const [name, make] of modes) best.set(name, Math.min(best.get(name) ?? Infinity, await run(make())));
  }
  const off = best.get('off')!;
  const files: Record<string, string> = { 'on, ratio 0': 'r0.jsonl', 'on, ratio 0.01': 'r001.jsonl', 'on, ratio 1.0': 'r1.jsonl' };
  const exported = (name: string): string => {
    const file = files[name] && path.join(dir, files[name]);
    const lines = file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0;
    return `${(lines / ((ROUNDS + 1) * EVENTS)).toFixed(3)} spans/event exported`;
  };
  console.log(`${EVENTS} events per round, ${ROUNDS} rounds, CPU µs per event through ingest's and the indexer's traced paths (least of the rounds; batches of ${BATCH}):`);
  for (const [name] of modes) {
    const us = best.get(name)!;
    console.log(`  tracing ${name.padEnd(15)} ${us.toFixed(2).padStart(7)} µs/event  (${(us / off).toFixed(2)}x off)  ${exported(name)}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
