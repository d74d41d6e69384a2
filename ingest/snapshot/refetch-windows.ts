import { canonicalKey, type ChangeEvent } from '../../core/change-event';
import type { Refetch } from '../source/pg-messages';
import { toSnapshotEvent, type RawTuple, type RelationInfo, type TxContext } from '../transform/to-change-events';

/** Refetches whose high mark never came (the tool died between its marks) are forgotten past this many. */
const MAX_OPEN = 64;

/**
 * The stream side of a refetch (pg-messages.ts Refetch), the watermark snapshot's rule for a few
 * keys: between the low and the high mark the stream collects the keys of the table changed by
 * committed transactions; at the high mark the rows the tool read are published as 'r' events,
 * and the keys it asked for but did not find as deletes, versioned with the high mark's commit
 * LSN, except the keys changed in the window (the stream carries those, with their own version).
 * A change committed after the high mark has a higher version and wins. So a refetch can never
 * put an older state over a newer one. Several refetches may be open at once.
 */
export class RefetchWindows {
  private readonly open = new Map<string, { changed: Set<string>; truncated: boolean }>();

  constructor(private readonly slot: string) {}

  observe(events: readonly ChangeEvent[]): void {
    if (!this.open.size) return;
    for (const w of this.open.values()) {
      for (const e of events) {
        if (e.op === 't') w.truncated = true;
        else w.changed.add(tableKey(e.source.schema, e.source.table, e.key));
      }
    }
  }

  /** One refetch mark; returns the events to publish in the mark's transaction. */
  onMark(r: Refetch, tx: TxContext, lsn: bigint): ChangeEvent[] {
    if (r.slot !== this.slot) return [];
    if (r.mark === 'low') {
      this.open.set(r.id, { changed: new Set(), truncated: false });
      if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
      return [];
    }
    const w = this.open.get(r.id);
    this.open.delete(r.id);
    if (!w || w.truncated || !r.relation) return []; // a high without its low (ingest restarted between): the tool sees nothing applied
    const rel: RelationInfo = { schema: r.relation.schema, name: r.relation.name, keyColumns: r.relation.keyColumns, columns: r.relation.columns };
    const found = (r.rows ?? []).map((row) => toSnapshotEvent(rel, row as RawTuple, lsn.toString(), tx));
    const foundKeys = new Set(found.map((e) => canonicalKey(e.key)));
    const gone = (r.keys ?? [])
      .map((k) => toSnapshotEvent({ ...rel, columns: rel.columns.filter((c) => rel.keyColumns.includes(c.name)) }, k as RawTuple, lsn.toString(), tx))
      .filter((e) => !foundKeys.has(canonicalKey(e.key)))
      .map(({ after: _after, ...e }): ChangeEvent => ({ ...e, op: 'd' }));
    return [...found, ...gone].filter((e) => !w.changed.has(tableKey(rel.schema, rel.name, e.key)));
  }
}

const tableKey = (schema: string, table: string, key: ChangeEvent['key']): string => `${schema}.${table}\u0000${canonicalKey(key)}`;
