/**
 * Cost of validating every produced event against the change-event contract (the compiled ajv
 * validator, ingest/sink/contract-guard.ts), beside JSON.stringify of the same event, which
 * ingest does anyway. Per event, in-process, no services: stable enough on a busy machine, where
 * the end-to-end bench/ingest.bench.ts swings more than this costs. Not a test.
 *
 *   npx tsx bench/ingest-contract.bench.ts [--events 1000000]
 */
import { parseArgs } from 'node:util';
import type { ChangeEvent } from '../core/change-event';
import { contractViolation } from '../ingest/sink/contract-guard';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
const N = Number(args.events);

/** The bench table's rows (bench/ingest.bench.ts): id, a small int, a title and padding. */
function event(i: number, bytes: number): ChangeEvent {
  return { v: 1, op: 'c', source: { schema: 'public', table: 'bench_ingest' }, key: { id: i }, after: { id: i, a: i % 1000, b: `title ${i}`, pad: 'x'.repeat(bytes - 30) }, lsn: String(4_000_000_000 + i * 80), commitLsn: '4000900000', txId: 7777, ts: '2026-11-23T09:00:00.000Z' };
}

function nsPerEvent(events: ChangeEvent[], fn: (e: ChangeEvent) => unknown): number {
  const t = process.hrtime.bigint();
  for (let r = 0; r < N / events.length; r++) for (const e of events) fn(e);
  return Number(process.hrtime.bigint() - t) / N;
}

for (const size of [200, 1000]) {
  const events = Array.from({ length: 1000 }, (_, i) => event(i, size));
  nsPerEvent(events, (e) => contractViolation(e, 'cdc')); // warm-up (JIT)
  const validate = Math.min(...[1, 2, 3].map(() => nsPerEvent(events, (e) => contractViolation(e, 'cdc'))));
  const stringify = Math.min(...[1, 2, 3].map(() => nsPerEvent(events, (e) => JSON.stringify(e))));
  console.log(`${size} B rows: validate ${validate.toFixed(0)} ns/event, JSON.stringify ${stringify.toFixed(0)} ns/event (validation = ${((100 * validate) / stringify).toFixed(0)} % of it; ${(validate * 50_000 / 1e7).toFixed(1)} % of one core at 50k events/s)`);
}
