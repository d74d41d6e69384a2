/**
 * How long indexing stops when the indexer is killed and started again (issue 11): real indexer
 * processes (as `npm start` runs them) against the stack, one consumer group per session timeout.
 * Each round stops the consuming process (SIGKILL or SIGTERM), starts a new one at once, writes a
 * new document to the topic and times kill → that document readable in Elasticsearch. After a
 * SIGKILL the group waits for the dead member's session to expire before it hands the partitions
 * to the new process; after a SIGTERM the member has left the group. Not a test.
 *
 *   [STACK_DIR=…/.stack] npx tsx bench/indexer-restart.bench.ts [--sessions 30000,10000] [--rounds 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { canonicalKey } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import { startService, stopService, type RunningService } from '../e2e/support/processes';
import { kafkajsClient } from '../core/kafkajs-client';

const stackEnv = path.join(process.env.STACK_DIR ?? path.join(__dirname, '..', '.stack'), 'stack.env');
for (const line of fs.readFileSync(stackEnv, 'utf8').split('\n')) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2];
}
const { values: args } = parseArgs({ options: { sessions: { type: 'string', default: '30000,10000' }, rounds: { type: 'string', default: '3' } } });

const run = Date.now().toString(36);
const prefix = `restart_${run}`;
const index = `restart_idx_${run}`;
const topic = `${prefix}.public.items`;
const es = new Client({ node: process.env.ELASTICSEARCH_URL! });
let lsn = 1_000_000;

async function write(producer: Producer, id: string): Promise<void> {
  lsn++;
  const e = { v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id }, after: { title: `doc ${id}` }, lsn: String(lsn), commitLsn: String(lsn), txId: 1, ts: new Date().toISOString() };
  await producer.send({ topic, acks: -1, messages: [{ key: canonicalKey(e.key), value: JSON.stringify(e) }] });
}

/** Ms until the document is readable (GET is realtime: no refresh needed). */
async function untilIndexed(id: string, since: number, timeoutMs = 120_000): Promise<number> {
  while (Date.now() - since < timeoutMs) {
    const found = await es.exists({ index, id }).catch(() => false);
    if (found) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`document ${id} not indexed within ${timeoutMs} ms`);
}

const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${(s[0]! / 1000).toFixed(1)} s, median ${(s[Math.floor(s.length / 2)]! / 1000).toFixed(1)} s, max ${(s[s.length - 1]! / 1000).toFixed(1)} s  [${s.map((x) => (x / 1000).toFixed(1)).join(', ')}]`;
};

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'restart-bench', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  await ensureTopics(kafkajsClient(kafka), [topic], 3);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-bench-'));
  const pipelineFile = path.join(dir, 'pipeline.json');
  fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table: 'items', fields: { title: { type: 'text', searchable: true } } } } }));
  const rounds = Number(args.rounds);
  const results: string[] = [];
  let current: RunningService | undefined;
  try {
    for (const session of args.sessions.split(',').map(Number)) {
      const env = { PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: `${prefix}_g${session}`, INDEXER_SESSION_TIMEOUT_MS: String(session), INDEXER_AUTO_REINDEX: '0', LOG_LEVEL: 'warn' };
      current = startService('indexer', env);
      const warm = `warm-${session}`;
      const t0 = Date.now();
      await write(producer, warm);
      await untilIndexed(warm, t0);
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const times: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const id = `${signal}-${session}-${r}`;
          const killedAt = Date.now();
          await stopService(current, signal);
          current = startService('indexer', env);
          await write(producer, id);
          times.push(await untilIndexed(id, killedAt));
          // The new process consumes: the next round kills a member that holds partitions.
          process.stdout.write(`session ${session} ms, ${signal} round ${r + 1}: ${((times.at(-1) ?? 0) / 1000).toFixed(1)} s\n`);
        }
        results.push(`session ${String(session).padStart(6)} ms, heartbeat ${session / 10} ms, ${signal.padEnd(7)}: kill → new document indexed by the new process: ${stats(times)}`);
      }
      await stopService(current);
      current = undefined;
    }
  } finally {
    if (current) await stopService(current, 'SIGKILL');
    await producer.disconnect();
    await es.indices.delete({ index: `${index}_v*`, ignore_unavailable: true }).catch(() => undefined);
    await es.indices.deleteIndexTemplate({ name: `search-pipeline-${index}` }).catch(() => undefined);
    await es.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n${results.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
