import type { ChangeEvent } from '../core/change-event';
import type { ChangeTraces } from './change-traces';
import type { CommitBatcher } from './commit-batcher';
import type { ChunkWindows } from './snapshot/chunk-window';
import { RefetchWindows } from './snapshot/refetch-windows';
import { HEARTBEAT_PREFIX, parseRefetch, parseWatermark, REFETCH_PREFIX, WATERMARK_PREFIX } from './source/pg-messages';
import type { SourceMessage } from './source/pg-change-source';
import type { KeyColumns, TableRef } from './source/pg-setup';
import type { CurrentRowReader } from './source/current-row';
import { fillMovedRow } from './transform/moved-row';
import { toChangeEvents, withDocumentKey, type DecodedChange, type RelationInfo, type TxContext } from './transform/to-change-events';

export type ChangeDecoder = (change: DecodedChange, lsn: string, tx: TxContext) => ChangeEvent[];

/**
 * The replication stream, message by message in WAL order: data changes become change events;
 * our heartbeat becomes one 'h' event per table topic (the publisher copies it to every
 * partition); our snapshot watermarks open and close a chunk's window, a refetch's marks those of
 * a few rows (snapshot/refetch-windows.ts); a commit lets the batcher
 * confirm that transaction once Kafka acknowledged everything before it.
 */
export interface StreamHandlerDeps {
  slot: string;
  tables: readonly TableRef[];
  keys?: KeyColumns;
  batcher: CommitBatcher;
  windows: ChunkWindows;
  decode?: ChangeDecoder;
  /** Reads a moved row's unchanged TOAST columns (transform/moved-row.ts); without it they stay unchanged. */
  readRow?: CurrentRowReader;
  /** After a moved row's columns were read: how many, and whether the row was gone. */
  onMovedRow?: (table: string, filled: number, gone: boolean) => void;
  /** Each change's table description, before its events are published (schema/schema-watch.ts). */
  onRelation?: (relation: RelationInfo) => Promise<void>;
  /** Starts each change's trace at its decoding (change-traces.ts); absent or off: no tracing work. */
  traces?: ChangeTraces;
}

export function createStreamHandler(deps: StreamHandlerDeps) {
  const { slot, tables, batcher, windows } = deps;
  const decode = deps.decode ?? toChangeEvents;
  const fullKeys = (table: string) => deps.keys?.get(table);
  const refetches = new RefetchWindows(slot);
  let tx: TxContext | undefined;

  function heartbeats(lsn: bigint, t: TxContext): ChangeEvent[] {
    return tables.map((s) => ({ v: 1, op: 'h', source: { schema: s.schema, table: s.table }, key: {}, lsn: lsn.toString(), commitLsn: t.commitLsn, txId: t.xid, ts: t.ts }));
  }

  return async function onMessage(m: SourceMessage): Promise<void> {
    switch (m.kind) {
      case 'begin':
        tx = { xid: m.xid, commitLsn: m.commitLsn.toString(), ts: m.ts.toISOString() };
        return;
      case 'change': {
        if (!tx) throw new Error('change outside a transaction');
        if (deps.onRelation) {
          if (m.change.tag === 'truncate') for (const r of m.change.relations) await deps.onRelation(r);
          else await deps.onRelation(m.change.relation);
        }
        const change = withDocumentKey(m.change, fullKeys);
        const span = deps.traces?.on ? deps.traces.startDecode() : undefined;
        let events = decode(change, m.lsn.toString(), tx);
        if (deps.readRow && events.length === 2 && change.tag === 'update') {
          const fill = await fillMovedRow(change, events, deps.readRow);
          events = fill.events;
          if (fill.filled || fill.gone) deps.onMovedRow?.(`${change.relation.schema}.${change.relation.name}`, fill.filled, fill.gone);
        }
        if (span) deps.traces!.decoded(span, events);
        windows.observe(events);
        refetches.observe(events);
        return batcher.add(events);
      }
      case 'message': {
        // Ours are transactional (they need a commit LSN); another pipeline's carry another slot name.
        if (!m.transactional || !tx) return;
        if (m.prefix === HEARTBEAT_PREFIX && m.content === slot) return batcher.add(heartbeats(m.lsn, tx));
        if (m.prefix === REFETCH_PREFIX) {
          const r = parseRefetch(m.content);
          const events = r ? refetches.onMark(r, tx, m.lsn) : [];
          if (events.length) await batcher.add(events);
          return;
        }
        if (m.prefix !== WATERMARK_PREFIX) return;
        const w = parseWatermark(m.content);
        if (!w) return;
        const events = windows.onWatermark(w, m.lsn, tx);
        if (events.length) await batcher.add(events);
        return;
      }
      case 'commit':
        tx = undefined;
        return batcher.commit(m.commitEndLsn, m.ts);
    }
  }
}
