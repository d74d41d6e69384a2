import type { ChangeEvent } from '../../core/change-event';
import type { CurrentRowReader } from '../source/current-row';
import { convertPgText } from './pg-values';
import type { DecodedChange } from './to-change-events';

/**
 * A primary-key update whose row has an unchanged TOAST value. Postgres leaves the value out (it
 * did not change), the event is a delete of the old key and an update of the new one, and no
 * document exists under the new key to keep the value from: the indexer would index the document
 * without it, and every replay of the topic (a reindex) would meet the same gap. So ingest reads
 * those columns from the row itself, by its new key, and the event carries them like any other.
 *
 * Why a read of the current row is right although it happens after the commit: a column whose
 * value changed after this transaction was sent in full by the later change, which has a higher
 * commit LSN and so wins in the index; a row gone by now (deleted, or moved again) is followed by
 * the event that removes this document. Either way the last write holds the row's final state.
 * When the row is gone the event keeps `unchanged` and the indexer does what it does today.
 * "Gone" is decided only once a read could see the change's own transaction: the commit reaches
 * the stream a moment before other sessions see it (source/current-row.ts waits for that).
 */
export interface MovedRowFill {
  /** The events, with the moved row's unchanged columns filled where the row still exists. */
  events: ChangeEvent[];
  /** Columns read from Postgres (0 when the change needed nothing). */
  filled: number;
  /** The row no longer exists under its new key: the columns stay unchanged. */
  gone: boolean;
}

export async function fillMovedRow(change: DecodedChange, events: ChangeEvent[], read: CurrentRowReader): Promise<MovedRowFill> {
  const moved = events.length === 2 && events[0]!.op === 'd' ? events[1]! : undefined;
  if (change.tag !== 'update' || !moved?.unchanged?.length || !moved.after) return { events, filled: 0, gone: false };
  const relation = change.relation;
  const keyTexts: Record<string, string> = {};
  for (const k of relation.keyColumns) keyTexts[k] = change.new[k] as string;
  const row = await read(relation, keyTexts, moved.unchanged, moved.txId);
  if (!row) return { events, filled: 0, gone: true };
  const after = { ...moved.after };
  for (const name of moved.unchanged) {
    const text = Object.prototype.hasOwnProperty.call(row, name) ? row[name] : undefined;
    const col = relation.columns.find((c) => c.name === name);
    // A column named __proto__ is data, not the object's prototype (as in to-change-events.ts).
    const value = text === null || text === undefined || !col ? null : convertPgText(text, col.typeOid);
    Object.defineProperty(after, name, { value, enumerable: true, writable: true, configurable: true });
  }
  const { unchanged, ...rest } = moved;
  return { events: [events[0]!, { ...rest, after }], filled: unchanged.length, gone: false };
}
