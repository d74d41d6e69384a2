/**
 * CPU per row of ingest's own work, without Postgres or Kafka: a decoded pgoutput insert →
 * change event → contract check, Kafka key, partition and JSON value (planSends) → one record
 * batch per partition (partitionBatches), the part of the profile this project controls.
 * In-process and repeatable on a busy machine, where the end-to-end bench/ingest.bench.ts swings
 * by ±30 %. Not a test.
 *
 *   npx tsx bench/ingest-cpu.bench.ts [--rows 200000]
 */
import { parseArgs } from 'node:util';
import { planSends } from '../ingest/sink/kafka-messages';
import { partitionBatches } from '../ingest/sink/kafka-publisher';
import { toChangeEvents, type DecodedChange, type RelationInfo, type TxContext } from '../ingest/transform/to-change-events';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' } } });
const ROWS = Number(args.rows);
const BATCH = 1000;

/** The bench table of bench/ingest.bench.ts: (id int PRIMARY KEY, a int, b text, pad text). */
const relation: RelationInfo = { schema: 'public', name: 'bench_ingest', keyColumns: ['id'], replicaIdentity: 'default', columns: [{ name: 'id', typeOid: 23 }, { name: 'a', typeOid: 23 }, { name: 'b', typeOid: 25 }, { name: 'pad', typeOid: 25 }] };
const layout = { partitions: () => 3, maxMessageBytes: () => 1_048_588 };

function run(size: number): number {
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
    for (const send of planSends(events, 'cdc', layout).sends) for (const b of partitionBatches(send)) bytes += b.records.length; // keeps the work from being optimised away
  }
  if (bytes === 0) throw new Error('nothing encoded');
  return Number(process.hrtime.bigint() - started) / ROWS;
}

for (const size of [200, 1000]) {
  run(size); // warm-up (JIT)
  const ns = Math.min(...Array.from({ length: 7 }, () => run(size))); // the least disturbed of seven
  console.log(`${size} B rows: ${ns.toFixed(0)} ns/row (${Math.round(1e9 / ns).toLocaleString('en')} rows/s on one core for this part)`);
}
