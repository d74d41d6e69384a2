import { Client } from 'pg';
import { every, type Periodic } from '../core/periodic';
import type { Logger } from '../core/logger';
import type { IngestMetrics } from './metrics';
import { SLOT_DROPPED_WHILE_RUNNING, SLOT_INVALIDATED, SlotLostError } from './source/slot-guard';

export interface SlotSample {
  exists: boolean;
  /** pg_current_wal_lsn() − confirmed_flush_lsn: WAL Postgres keeps for this slot. */
  lagBytes: bigint | undefined;
  walStatus: string | null;
}

export interface LagThresholds {
  warnBytes: number;
  /** Undefined when heartbeats are off: a quiet database then looks behind without being so. */
  warnSeconds: number | undefined;
}

/** What a sample means: a slot that is gone or invalidated stops ingest; a large lag warns. */
export function assessSample(slot: string, s: SlotSample, lagSeconds: number, t: LagThresholds): { fatal?: SlotLostError; warnings: string[] } {
  if (!s.exists) return { fatal: new SlotLostError(slot, SLOT_DROPPED_WHILE_RUNNING), warnings: [] };
  if (s.walStatus === 'lost') return { fatal: new SlotLostError(slot, SLOT_INVALIDATED), warnings: [] };
  const warnings: string[] = [];
  if (s.walStatus === 'unreserved') warnings.push(`replication slot ${slot} holds more WAL than max_slot_wal_keep_size allows and will be invalidated at the next checkpoint unless ingest catches up`);
  if (s.lagBytes !== undefined && s.lagBytes > BigInt(t.warnBytes)) warnings.push(`replication slot ${slot} is ${s.lagBytes} bytes behind the WAL (INGEST_SLOT_LAG_WARN_BYTES=${t.warnBytes}); Postgres keeps that WAL on disk until ingest confirms it`);
  if (t.warnSeconds !== undefined && lagSeconds > t.warnSeconds) warnings.push(`replication slot ${slot} last confirmed a commit ${Math.round(lagSeconds)} s ago (INGEST_SLOT_LAG_WARN_SECONDS=${t.warnSeconds})`);
  return { warnings };
}

export async function sampleSlot(db: Client, slot: string): Promise<SlotSample> {
  const { rows } = await db.query<{ lag: string | null; wal_status: string | null }>(
    'SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag, wal_status FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const row = rows[0];
  if (!row) return { exists: false, lagBytes: undefined, walStatus: null };
  return { exists: true, lagBytes: row.lag === null ? undefined : BigInt(row.lag.replace(/\..*$/, '')), walStatus: row.wal_status };
}

/**
 * Samples the slot every `intervalMs` on its own connection (never queued behind snapshot reads):
 * gauges ingest_slot_lag_bytes and ingest_slot_lag_seconds (now − commit time of the last
 * confirmed transaction; heartbeats keep that fresh on a quiet database), warnings above the
 * thresholds, and `onFatal` when the slot is gone or invalidated.
 */
export function startSlotLagMonitor(deps: {
  connectionString: string;
  slot: string;
  intervalMs: number;
  thresholds: LagThresholds;
  lastConfirmedCommitAt: () => Date;
  metrics: IngestMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
}): Periodic {
  let db: Client | undefined;
  let failed = false;
  const periodic = every(
    deps.intervalMs,
    async () => {
      if (failed) return;
      if (!db) {
        const c = new Client({ connectionString: deps.connectionString });
        c.on('error', () => undefined); // a broken connection fails the next query, which resets it
        await c.connect();
        db = c;
      }
      let sample: SlotSample;
      try {
        sample = await sampleSlot(db, deps.slot);
      } catch (err) {
        const broken = db;
        db = undefined;
        await broken.end().catch(() => undefined);
        throw err;
      }
      const lagSeconds = Math.max(0, (Date.now() - deps.lastConfirmedCommitAt().getTime()) / 1000);
      if (sample.lagBytes !== undefined) deps.metrics.slotLagBytes.set(Number(sample.lagBytes));
      deps.metrics.slotLagSeconds.set(lagSeconds);
      const { fatal, warnings } = assessSample(deps.slot, sample, lagSeconds, deps.thresholds);
      for (const w of warnings) deps.log.warn(w, { slot: deps.slot, lagBytes: sample.lagBytes, lagSeconds, walStatus: sample.walStatus });
      if (fatal) {
        failed = true;
        deps.onFatal(fatal);
      }
    },
    (err) => {
      deps.metrics.errors.inc({ kind: 'slot_lag_sample_failed' });
      deps.log.warn('slot lag sample failed; retrying at the next interval', { err });
    },
  );
  return {
    async stop(): Promise<void> {
      await periodic.stop();
      await db?.end().catch(() => undefined);
      db = undefined;
    },
  };
}
