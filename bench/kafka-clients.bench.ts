/**
 * Which Kafka client behind the ports: ingest's hand-written produce path (ingest/sink/wire), kafkajs
 * and @platformatic/kafka, producing the same ingest-shaped change events, then kafkajs (as the
 * indexer runs it) and @platformatic/kafka consuming them. Not a test.
 *
 *   npx tsx bench/kafka-clients.bench.ts [--rows 200000] [--bytes 300] [--rounds 3] [--partitions 6]
 *
 * Method: every round makes one fresh topic per producer; each producer runs alone in its own
 * process (ingest's node flags) and sends the events as ingest does: planSends' batches of 1000
 * (INGEST_BATCH_MAX_EVENTS), keyed by the canonical primary key, placed by murmur2, acks=all, no
 * compression (ingest's record batches are uncompressed), one send at a time. The batches are planned
 * before the clock starts, so the figures are the client's own. Then each consumer reads each of
 * the round's topics in full from a fresh group, in its own process (the indexer's node flags and
 * fetch settings), decoding every value as the indexer does (decodeChangeEvent). Rates run from
 * the group join to the last message; CPU is the whole process's (process.cpuUsage, all threads)
 * over the same span, per row; the same checks and decoding without Kafka, in a process of their own,
 * say how much of that is the clients'. The order of the clients rotates each round. Every topic's high
 * watermarks must equal the rows planned for each partition, and every consumer must see exactly
 * the planned keys on each partition, in order, with offsets 0..n-1 and values whose key matches:
 * a run that measured a broken path fails instead of printing.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CompressionTypes, Kafka, logLevel, type ICustomPartitioner } from 'kafkajs';
import { SERVICE_NODE_FLAGS } from '../config/service-runtime';
import { canonicalKey, decodeChangeEvent, type ChangeEvent } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import { planSends, type Send } from '../ingest/sink/kafka-messages';
import { kafkajsCluster } from '../core/kafkajs-cluster';
import { keyPartition } from '../core/kafka-partitioner';
import { WireMessageProducer } from '../ingest/sink/wire/wire-message-producer';
import { clusterLayout, WireProducer } from '../ingest/sink/wire/wire-producer';
import { loadStackEnv } from './stack-env';
import { kafkajsClient } from '../core/kafkajs-client';

type Platformatic = typeof import('@platformatic/kafka', { with: { 'resolution-mode': 'import' } });

/**
 * @platformatic/kafka 2.x declares Node >= 22.22 and calls Promise.withResolvers (Node 22) on every
 * send and fetch; the product runs Node 20. Its only Node 22 built-in, so the bench supplies it.
 */
async function loadPlatformatic(): Promise<Platformatic> {
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
  return import('@platformatic/kafka');
}

loadStackEnv();
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' }, bytes: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' }, partitions: { type: 'string', default: '6' },
    role: { type: 'string' }, client: { type: 'string' }, prefix: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const BYTES = Number(args.bytes);
const PARTITIONS = Number(args.partitions);
const BROKERS = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const BATCH_EVENTS = 1000; // INGEST_BATCH_MAX_EVENTS' default
const INDEXER = { maxWaitMs: 100, sessionTimeoutMs: 10_000, heartbeatMs: 1_000, fetchBytesPerPartition: 4_194_304, partitionsConcurrency: 4 }; // config/indexer-config.ts defaults
const PRODUCERS = ['wire', 'kafkajs', 'platformatic'] as const;
const CONSUMERS = ['kafkajs', 'platformatic'] as const;
const topicOf = (prefix: string): string => `${prefix}.public.items`;
const kafka = new Kafka({ clientId: 'kbench', brokers: BROKERS, logLevel: logLevel.NOTHING });

/** Row i's change event, about `bytes` of JSON: the same in every process, so each can check what the others did. */
function events(rows: number, bytes: number): ChangeEvent[] {
  const make = (i: number, notes: string): ChangeEvent => ({
    v: 1, op: 'u', source: { schema: 'public', table: 'items' }, key: { id: i },
    after: { id: i, title: `item number ${i}`, notes, price: '12.50', year: 1990 + (i % 30), active: i % 2 === 0 },
    lsn: String(1_000_000_000 + 2 * i), commitLsn: String(1_000_000_001 + 2 * i), txId: 5000 + Math.floor(i / BATCH_EVENTS), ts: '2026-12-02T06:00:00.000Z',
  });
  const notes = 'n'.repeat(Math.max(0, bytes - JSON.stringify(make(0, '')).length));
  return Array.from({ length: rows }, (_, i) => make(i, notes));
}

/** The sends ingest's publisher would make of those events, batch by batch. */
function plannedSends(prefix: string): Send[] {
  const all = events(ROWS, BYTES);
  const layout = { partitions: () => PARTITIONS, maxMessageBytes: () => undefined };
  const sends: Send[] = [];
  for (let i = 0; i < all.length; i += BATCH_EVENTS) sends.push(...planSends(all.slice(i, i + BATCH_EVENTS), prefix, layout).sends);
  return sends;
}

/**
 * Per partition, the keys in the order they were produced: row i's canonical key, placed by
 * Kafka's default (murmur2) partitioner, computed apart from planSends so it also checks placement.
 */
function expectedKeys(): string[][] {
  const out = Array.from({ length: PARTITIONS }, () => [] as string[]);
  for (let i = 0; i < ROWS; i++) {
    const key = canonicalKey({ id: i });
    out[keyPartition(key, PARTITIONS)]!.push(key);
  }
  return out;
}

interface Measured { rows: number; ms: number; cpuUs: number; joinMs?: number }
const cpuNow = (): number => { const u = process.cpuUsage(); return u.user + u.system; };

async function produce(client: string, prefix: string): Promise<Measured> {
  const sends = plannedSends(prefix);
  const topic = topicOf(prefix);
  let send: (s: Send) => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (client === 'wire') {
    // As ingest sends: the producer port's wire adapter, each send's messages flattened (kafka-publisher.ts).
    const cluster = () => kafkajsCluster(kafka);
    const p = new WireMessageProducer(new WireProducer(clusterLayout(cluster), { clientId: 'kbench' }), cluster);
    send = (s) => p.send([...s.values()].flat());
    close = () => p.close();
  } else if (client === 'kafkajs') {
    // As ingest ran kafkajs before ingest/sink/wire: the partition planSends chose, one request in flight.
    const createPartitioner: ICustomPartitioner = () => ({ message }) => message.partition!;
    const p = kafka.producer({ createPartitioner, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    send = (s) => p.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: [...s].map(([t, messages]) => ({ topic: t, messages })) });
    close = () => p.disconnect();
  } else {
    const pk = await loadPlatformatic();
    const p = new pk.Producer({ clientId: 'kbench', bootstrapBrokers: BROKERS, serializers: pk.stringSerializers, acks: pk.ProduceAcks.ALL, compression: 'none', autocreateTopics: false, maxInflights: 1 });
    send = (s) => p.send({ messages: (s.get(topic) ?? []).map((m) => ({ topic, key: m.key, value: m.value, partition: m.partition })) });
    close = () => p.close();
  }
  const cpu = cpuNow();
  const t = performance.now();
  for (const s of sends) await send(s);
  const measured = { rows: ROWS, ms: performance.now() - t, cpuUs: cpuNow() - cpu };
  await close();
  return measured;
}

/** Checks every message against the plan and decodes its value as the indexer does. */
function verifier() {
  const expected = expectedKeys();
  const next = new Array<number>(PARTITIONS).fill(0);
  const problems: string[] = [];
  let seen = 0;
  return {
    expected,
    get seen() { return seen; },
    problems,
    check(partition: number, offset: number, key: Buffer | string | null | undefined, value: Buffer | null | undefined): void {
      seen++;
      const i = next[partition]!++;
      const k = key?.toString() ?? '';
      const event = decodeChangeEvent(value ?? '');
      if (problems.length < 5 && (offset !== i || k !== expected[partition]![i] || canonicalKey(event.key) !== k)) {
        problems.push(`partition ${partition} message ${i}: offset ${offset}, key ${k}, event key ${canonicalKey(event.key)}; expected key ${expected[partition]![i]}`);
      }
    },
    finish(): void {
      for (let p = 0; p < PARTITIONS; p++) if (next[p] !== expected[p]!.length) problems.push(`partition ${p}: ${next[p]} messages read, ${expected[p]!.length} produced`);
    },
  };
}

async function consume(client: string, prefix: string): Promise<Measured & { problems: string[] }> {
  const v = verifier();
  const topic = topicOf(prefix);
  const groupId = `${prefix}_${client}_g`;
  const start = { t: performance.now(), cpu: cpuNow() };
  let joined = start;
  let finished!: (m: { t: number; cpu: number }) => void;
  const done = new Promise<{ t: number; cpu: number }>((r) => (finished = r));
  const atEnd = (): void => { if (v.seen === ROWS) finished({ t: performance.now(), cpu: cpuNow() }); };
  let close: () => Promise<unknown>;
  if (client === 'kafkajs') {
    // As indexer/indexer-service.ts runs it.
    const c = kafka.consumer({ groupId, maxWaitTimeInMs: INDEXER.maxWaitMs, sessionTimeout: INDEXER.sessionTimeoutMs, heartbeatInterval: INDEXER.heartbeatMs, maxBytesPerPartition: INDEXER.fetchBytesPerPartition });
    c.on(c.events.GROUP_JOIN, () => (joined = { t: performance.now(), cpu: cpuNow() }));
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: INDEXER.partitionsConcurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) v.check(batch.partition, Number(m.offset), m.key, m.value);
        resolveOffset(batch.lastOffset());
        await heartbeat();
        atEnd();
      },
    });
    close = () => c.disconnect();
  } else {
    const pk = await loadPlatformatic();
    const c = new pk.Consumer({ clientId: 'kbench', groupId, bootstrapBrokers: BROKERS, maxWaitTime: INDEXER.maxWaitMs, sessionTimeout: INDEXER.sessionTimeoutMs, heartbeatInterval: INDEXER.heartbeatMs, maxBytesPerPartition: INDEXER.fetchBytesPerPartition, autocommit: false });
    c.on('consumer:group:join', () => (joined = { t: performance.now(), cpu: cpuNow() }));
    const stream = await c.consume({ topics: [topic], mode: pk.MessagesStreamModes.COMMITTED, fallbackMode: pk.MessagesStreamFallbackModes.EARLIEST });
    stream.on('error', (err) => { v.problems.push(`stream error: ${err.message}`); finished({ t: performance.now(), cpu: cpuNow() }); });
    stream.on('data', (m) => {
      v.check(m.partition, Number(m.offset), m.key, m.value);
      atEnd();
    });
    close = async () => { await stream.close(); await c.close(); };
  }
  const end = await done;
  await close();
  v.finish();
  return { rows: v.seen, ms: end.t - joined.t, cpuUs: end.cpu - joined.cpu, joinMs: joined.t - start.t, problems: v.problems };
}

/** The consumers' common work without Kafka: the same checks and decoding over the same values, in memory. */
function decodeOnly(): Measured & { problems: string[] } {
  const v = verifier();
  const values = events(ROWS, BYTES).map((e) => Buffer.from(JSON.stringify(e)));
  const keys = values.map((_, i) => Buffer.from(canonicalKey({ id: i })));
  const partitions = keys.map((k) => keyPartition(k.toString(), PARTITIONS));
  const offsets = new Array<number>(PARTITIONS).fill(0);
  const cpu = cpuNow();
  const t = performance.now();
  for (let i = 0; i < ROWS; i++) v.check(partitions[i]!, offsets[partitions[i]!]!++, keys[i], values[i]);
  const measured = { rows: v.seen, ms: performance.now() - t, cpuUs: cpuNow() - cpu };
  v.finish();
  return { ...measured, problems: v.problems };
}

// ---- the parent: topics, child processes, checks, table ----

function child(role: 'produce' | 'consume' | 'decode', client: string, prefix: string): Promise<Measured & { problems?: string[] }> {
  const flags = SERVICE_NODE_FLAGS[role === 'produce' ? 'ingest' : 'indexer'];
  const argv = [...flags, '--import', 'tsx', __filename, '--role', role, '--client', client, '--prefix', prefix, '--rows', String(ROWS), '--bytes', String(BYTES), '--partitions', String(PARTITIONS)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`${role} ${client} on ${prefix} exited with ${code}: ${out.slice(-500)}`));
    });
  });
}

async function highWatermarks(topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Array<number>(PARTITIONS).fill(0);
    for (const o of await admin.fetchTopicOffsets(topic)) out[o.partition] = Number(o.high);
    return out;
  } finally {
    await admin.disconnect();
  }
}

interface Sample { client: string; perSec: number; cpuUsPerRow: number }
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const say = (m: string): void => void process.stderr.write(`${m}\n`);

function table(title: string, unit: string, samples: Sample[], clients: readonly string[]): string {
  const base = samples.filter((s) => s.client === 'kafkajs');
  const baseRate = median(base.map((s) => s.perSec));
  const baseCpu = median(base.map((s) => s.cpuUsPerRow));
  const lines = [`${title}`, `| client | ${unit}/s (median) | CPU µs per ${unit.slice(0, -1)} (median) | rate vs kafkajs | CPU vs kafkajs | runs (${unit}/s; µs) |`, '|---|---:|---:|---:|---:|---|'];
  for (const c of clients) {
    const mine = samples.filter((s) => s.client === c);
    const rate = median(mine.map((s) => s.perSec));
    const cpu = median(mine.map((s) => s.cpuUsPerRow));
    lines.push(`| ${c} | ${rate.toFixed(0)} | ${cpu.toFixed(2)} | ${(rate / baseRate).toFixed(2)}x | ${(cpu / baseCpu).toFixed(2)}x | ${mine.map((s) => `${(s.perSec / 1000).toFixed(1)}k; ${s.cpuUsPerRow.toFixed(1)}`).join(', ')} |`);
  }
  return lines.join('\n');
}

async function parent(): Promise<void> {
  const run = `kbench_${Date.now().toString(36)}`;
  const rounds = Number(args.rounds);
  const produced: Sample[] = [];
  const consumed: Sample[] = [];
  const decoded: Sample[] = [];
  const topics: string[] = [];
  const failures: string[] = [];
  say(`${ROWS} rows of ~${BYTES} B per topic, ${PARTITIONS} partitions, ${rounds} round(s); brokers ${BROKERS.join(',')}`);
  try {
    for (let r = 0; r < rounds; r++) {
      const producers = PRODUCERS.map((_, i) => PRODUCERS[(i + r) % PRODUCERS.length]!);
      const prefixes = new Map(producers.map((p) => [p, `${run}_r${r}_${p}`]));
      const roundTopics = [...prefixes.values()].map(topicOf);
      topics.push(...roundTopics);
      await ensureTopics(kafkajsClient(kafka), roundTopics, PARTITIONS);
      for (const p of producers) {
        const prefix = prefixes.get(p)!;
        const m = await child('produce', p, prefix);
        const want = expectedKeys().map((k) => k.length);
        const got = await highWatermarks(topicOf(prefix));
        if (want.join() !== got.join()) failures.push(`${p} produced ${got.join('/')} per partition to ${topicOf(prefix)}, planned ${want.join('/')}`);
        produced.push({ client: p, perSec: m.rows / (m.ms / 1000), cpuUsPerRow: m.cpuUs / m.rows });
        say(`round ${r + 1} produce ${p}: ${(m.rows / (m.ms / 1000)).toFixed(0)} rows/s, ${(m.cpuUs / m.rows).toFixed(2)} µs CPU/row`);
      }
      const d = await child('decode', 'none', `${run}_r${r}_decode`);
      if (d.problems?.length) failures.push(`decoding alone: ${d.problems.join('; ')}`);
      decoded.push({ client: 'decode', perSec: d.rows / (d.ms / 1000), cpuUsPerRow: d.cpuUs / d.rows });
      for (const [i, p] of producers.entries()) {
        const consumers = (i + r) % 2 ? [...CONSUMERS].reverse() : CONSUMERS;
        for (const c of consumers) {
          const m = await child('consume', c, prefixes.get(p)!);
          if (m.problems?.length) failures.push(`${c} reading what ${p} produced: ${m.problems.join('; ')}`);
          consumed.push({ client: c, perSec: m.rows / (m.ms / 1000), cpuUsPerRow: m.cpuUs / m.rows });
          say(`round ${r + 1} consume ${c} (topic by ${p}): ${(m.rows / (m.ms / 1000)).toFixed(0)} docs/s, ${(m.cpuUs / m.rows).toFixed(2)} µs CPU/doc, join ${m.joinMs?.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
  if (failures.length) {
    console.error(`verification failed, no figures:\n${failures.join('\n')}`);
    process.exit(1);
  }
  console.log(table(`Produce (ingest's sends: ${BATCH_EVENTS}-event batches, acks=all, no compression), ${ROWS} rows of ~${BYTES} B, ${PARTITIONS} partitions`, 'rows', produced, PRODUCERS));
  console.log();
  console.log(table(`Consume (indexer's fetch settings, decodeChangeEvent per message), same topics`, 'docs', consumed, CONSUMERS));
  const common = median(decoded.map((s) => s.cpuUsPerRow));
  const own = CONSUMERS.map((c) => `${c} ${(median(consumed.filter((s) => s.client === c).map((s) => s.cpuUsPerRow)) - common).toFixed(2)}`);
  console.log(`\nDecoding and checking alone (no Kafka, same process flags): ${common.toFixed(2)} µs per doc; so each client's own CPU per doc: ${own.join(', ')}`);
}

async function main(): Promise<void> {
  if (!BROKERS.length) throw new Error(`KAFKA_BROKERS is unset and the stack's stack.env is missing: run with STACK_DIR=<the stack's state folder> (npm run stack:up starts one)`);
  if (!args.role) return parent();
  const prefix = args.prefix!;
  const result = args.role === 'produce' ? await produce(args.client!, prefix) : args.role === 'decode' ? decodeOnly() : await consume(args.client!, prefix);
  console.log(JSON.stringify(result));
  process.exit(0); // a client's timers must not keep a finished measurement alive
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
