import type { ChangeEvent } from '../core/change-event';
import { sourceOf } from './sink/contract-guard';

/**
 * Events per (table, op) of one Kafka send, for ingest_events_total. Keyed by the source object,
 * which the decoder shares among a relation's events, so counting a row allocates nothing; equal
 * tables with distinct source objects are merged at the end.
 */
export function countByTableAndOp(events: readonly ChangeEvent[]): Array<{ labels: { table: string; op: string }; n: number }> {
  const bySource = new Map<object, Map<string, number>>();
  for (const e of events) {
    if (!sourceOf(e)) continue; // an invalid event (dead-lettered) may have none
    let ops = bySource.get(e.source);
    if (!ops) bySource.set(e.source, (ops = new Map()));
    ops.set(e.op, (ops.get(e.op) ?? 0) + 1);
  }
  const merged = new Map<string, { labels: { table: string; op: string }; n: number }>();
  for (const [source, ops] of bySource) {
    const table = `${(source as ChangeEvent['source']).schema}.${(source as ChangeEvent['source']).table}`;
    for (const [op, n] of ops) {
      const k = `${table}\u0000${op}`;
      const c = merged.get(k);
      if (c) c.n += n;
      else merged.set(k, { labels: { table, op }, n });
    }
  }
  return [...merged.values()];
}
