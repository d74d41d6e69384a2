import { PipelineError } from '../../core/errors';
import type { SlotRow } from './pg-setup';

/**
 * A replication slot is this pipeline's only memory of what it has already read. If it vanished
 * (dropped by hand, or by a failover that did not carry it) or was invalidated (Postgres removed
 * WAL it still needed, see max_slot_wal_keep_size), the changes in between are gone: a new slot
 * would silently start after them. So ingest stops with this message, and re-copying the tables
 * is an explicit decision (INGEST_RESNAPSHOT=1).
 */
export class SlotLostError extends PipelineError {
  constructor(slot: string, what: string) {
    super(
      `replication slot ${slot} ${what}, so changes committed since ingest last confirmed a position may be lost and the search indexes may miss updates and deletes. ` +
        'Ingest stops instead of silently starting a new slot after the gap. ' +
        `To recover, start ingest once with INGEST_RESNAPSHOT=1: it ${what.includes('invalidated') ? 'drops the invalidated slot, ' : ''}creates a new slot and re-copies every table (an initial snapshot) while streaming. ` +
        'Rows deleted during the gap stay in the indexes until they are repaired: afterwards run npm run reconcile -- <index> --repair for each index (docs/operations.md, "Reconciliation"), or delete the indexes and the table topics before re-snapshotting. ' +
        'To keep this from happening, watch ingest_slot_lag_bytes and set max_slot_wal_keep_size with room for the longest outage you want to survive.',
      { code: 'SLOT_LOST', retriable: false, context: { slot } },
    );
  }
}

export const SLOT_MISSING = 'is missing although this pipeline ran before (its topics hold events or its snapshot state exists)';
export const SLOT_INVALIDATED = "is invalidated (wal_status = 'lost': Postgres removed WAL it still needed, see max_slot_wal_keep_size)";
export const SLOT_DROPPED_WHILE_RUNNING = 'was dropped while ingest was running';

export type SlotDecision =
  /** Stream from the existing slot. */
  | { action: 'use' }
  /** Create the slot and snapshot every table; `drop` first when an invalidated slot is in the way. */
  | { action: 'create'; drop: boolean; reason: 'first start' | 'resnapshot' };

export function decideSlot(slot: string, row: SlotRow | undefined, ranBefore: boolean, resnapshot: boolean): SlotDecision {
  if (row) {
    if (row.plugin !== 'pgoutput') throw new PipelineError(`replication slot ${slot} uses plugin ${row.plugin}, not pgoutput. Choose another SLOT_NAME or drop that slot.`, { code: 'SLOT_PLUGIN', retriable: false });
    if (row.walStatus !== 'lost') return { action: 'use' };
    if (!resnapshot) throw new SlotLostError(slot, SLOT_INVALIDATED);
    return { action: 'create', drop: true, reason: 'resnapshot' };
  }
  if (!ranBefore) return { action: 'create', drop: false, reason: 'first start' };
  if (!resnapshot) throw new SlotLostError(slot, SLOT_MISSING);
  return { action: 'create', drop: false, reason: 'resnapshot' };
}
