/**
 * CPU per row of ingest's own work, without Postgres or Kafka: a decoded pgoutput insert →
 * change event → contract check, Kafka key, partition and JSON value (planSends) → one record
 * batch per partition, the part of the profile this project controls. Two ways to the batches,
 * measured in one run: through the producer port (the publisher flattens each send into messages,
 * the wire adapter groups them again by topic and partition: encodeSend, what ingest runs) and the
 * publisher's former direct path (each send's per-topic lists cut by partition straight into batches).
 * In-process and repeatable on a busy machine, where the end-to-end bench/ingest.bench.ts swings
 * by ±30 %. Not a test.
 *
 *   npx tsx bench/ingest-cpu.bench.ts [--rows 200000]
 */
import { parseArgs } from 'node:util';
import { planSends, type KafkaMessage } from '../ingest/sink/kafka-messages';
import type { PartitionBatch } from '../ingest/sink/batch-producer';
import { encodeSend } from '../ingest/sink/wire/wire-message-producer';
import { encodeRecordBatch } from '../ingest/sink/wire/record-batch';
import { toChangeEvents, type DecodedChange, type RelationInfo, type TxContext } from '../ingest/transform/to-change-events';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' } } });
const ROWS = Number(args.rows);
const BATCH = 1000;

/** The bench table of bench/ingest.bench.ts: (id int PRIMARY KEY, a int, b text, pad text). */
const relation: RelationInfo = { schema: 'public', name: 'bench_ingest', keyColumns: ['id'], replicaIdentity: 'default', columns: [{ name: 'id', typeOid: 23 }, { name: 'a', typeOid: 23 }, { name: 'b', typeOid: 25 }, { name: 'pad', typeOid: 25 }] };
const layout = { partitions: () => 3, maxMessageBytes: () => 1_048_588 };

/** The former path, as the baseline: the publisher cut each topic's list by partition and encoded it. */
function directBatches(send: ReadonlyMap<string, readonly KafkaMessage[]>): PartitionBatch[] {
  const out: PartitionBatch[] = [];
  for (const [topic, messages] of send) {
    const byPartition = new Map<number, KafkaMessage[]>();
    for (const m of messages) {
      let list = byPartition.get(m.partition);
      if (!list) byPartition.set(m.partition, (list = []));
      list.push(m);
    }
    for (const [partition, list] of byPartition) out.push({ topic, partition, records: encodeRecordBatch(list) });
  }
  return out;
}

const paths = {
  port: (send: ReadonlyMap<string, KafkaMessage[]>) => encodeSend([...send.values()].flat()),
  direct: directBatches,
};

function run(size: number, path: keyof typeof paths): number {
  const pad = 'f'.repeat(Math.max(1, size - 30));
  const tx: TxContext = { xid: 7777, commitLsn: '4000900000', ts: '2026-11-23T09:00:00.000Z' };
  const started = process.hrtime.bigint();
  let bytes = 0;
  for (let from = 0; from < ROWS; from += BATCH) {
    const events = [];
    for (let i = from; i < from + BATCH; i++) {
      const change: DecodedChange = { tag: 'insert', relation, new: { id: String(i), a: String(i % 1000), b: `title ${i}`, pad } };
      events.push(...toChangeEvents(change, String(4_000_000_000 + i * 80), tx));
    }
    for (const send of planSends(events, 'cdc', layout).sends) for (const b of paths[path](send)) bytes += b.records.length; // keeps the work from being optimised away
  }
  if (bytes === 0) throw new Error('nothing encoded');
  return Number(process.hrtime.bigint() - started) / ROWS;
}

for (const size of [200, 1000]) {
  run(size, 'port'); // warm-up (JIT)
  run(size, 'direct');
  // Interleaved, the least disturbed of seven each, so both see the same machine.
  const best = { port: Infinity, direct: Infinity };
  for (let i = 0; i < 7; i++) for (const p of ['port', 'direct'] as const) best[p] = Math.min(best[p], run(size, p));
  const line = (p: keyof typeof paths) => `${best[p].toFixed(0)} ns/row (${Math.round(1e9 / best[p]).toLocaleString('en')} rows/s on one core)`;
  console.log(`${size} B rows: through the producer port ${line('port')}; direct ${line('direct')}; port/direct ${(best.port / best.direct).toFixed(3)}`);
}
