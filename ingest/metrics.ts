import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createIngestMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'ingest_' });
  let pending = (): number => 0;
  return {
    registry,
    /** Where ingest_pending_events reads from (the commit batcher), set once ingest is built. */
    setPendingSource(fn: () => number): void {
      pending = fn;
    },
    active: new Gauge({ name: 'ingest_active', help: '1 while this ingest holds the slot lease and streams; 0 while standby (another ingest holds it) or starting', registers: [registry] }),
    pendingEvents: new Gauge({ name: 'ingest_pending_events', help: 'Change events received from the slot and not yet acknowledged by Kafka (bounded by about 2 x INGEST_BATCH_MAX_EVENTS)', registers: [registry], collect() { this.set(pending()); } }),
    events: new Counter({ name: 'ingest_events_total', help: 'Change events published to Kafka', labelNames: ['table', 'op'] as const, registers: [registry] }),
    produceSeconds: new Histogram({ name: 'ingest_produce_seconds', help: 'Time for Kafka to acknowledge one batch', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    confirmedLsn: new Gauge({ name: 'ingest_confirmed_lsn', help: 'Last commit end LSN confirmed to Postgres (may lose precision above 2^53; for graphs only)', registers: [registry] }),
    errors: new Counter({ name: 'ingest_errors_total', help: 'Errors by kind: the code of a fatal error (replication_failed, kafka_produce_failed, slot_lost, ...), event_too_large, event_unserializable, event_invalid (breaks the change-event contract), heartbeat_failed, slot_lag_sample_failed', labelNames: ['kind'] as const, registers: [registry] }),
    deadLetters: new Counter({ name: 'ingest_dead_letters_total', help: 'Events Kafka cannot carry or that break the change-event contract, parked in the dead-letter topic, by table and reason', labelNames: ['table', 'reason'] as const, registers: [registry] }),
    slotLagBytes: new Gauge({ name: 'ingest_slot_lag_bytes', help: 'pg_current_wal_lsn() - confirmed_flush_lsn of the slot: WAL Postgres keeps for ingest', registers: [registry] }),
    slotLagSeconds: new Gauge({ name: 'ingest_slot_lag_seconds', help: 'Seconds since the commit time of the last transaction confirmed to Postgres (heartbeats included)', registers: [registry] }),
    movedRowReads: new Counter({ name: 'ingest_moved_row_reads_total', help: 'Unchanged TOAST columns of rows whose primary key changed, read from Postgres so the event under the new key carries them', labelNames: ['table'] as const, registers: [registry] }),
    schemaChanges: new Counter({ name: 'ingest_schema_changes_total', help: 'DDL seen in the stream on a column that feeds a document field, by table and kind (column_missing: dropped or renamed, column_back, column_retyped); each one copies the table again', labelNames: ['table', 'kind'] as const, registers: [registry] }),
    missingColumns: new Gauge({ name: 'ingest_missing_columns', help: '1 while a column the pipeline config reads for a field does not exist in its table (its documents lack the field)', labelNames: ['table', 'column', 'index', 'field'] as const, registers: [registry] }),
    heartbeats: new Counter({ name: 'ingest_heartbeats_total', help: 'Heartbeats emitted into the WAL', registers: [registry] }),
    snapshotRowsTotal: new Gauge({ name: 'ingest_snapshot_rows_total', help: 'Rows of the table when its snapshot started', labelNames: ['table'] as const, registers: [registry] }),
    snapshotRowsDone: new Gauge({ name: 'ingest_snapshot_rows_done', help: 'Rows of the table copied and acknowledged by Kafka', labelNames: ['table'] as const, registers: [registry] }),
    snapshotRowsPerSecond: new Gauge({ name: 'ingest_snapshot_rows_per_second', help: 'Snapshot copy rate of the table in this run, rows per second', labelNames: ['table'] as const, registers: [registry] }),
    snapshotEtaSeconds: new Gauge({ name: 'ingest_snapshot_eta_seconds', help: 'Estimated seconds until the snapshot of the table is done (0 when done)', labelNames: ['table'] as const, registers: [registry] }),
    reconcileDocuments: new Gauge({ name: 'ingest_reconcile_documents', help: 'Documents the last reconciliation of the index found drifted from their rows, by kind: missing (a row without its document), extra (a document without its row), stale (a document unlike its row)', labelNames: ['index', 'kind'] as const, registers: [registry] }),
    reconcileRuns: new Counter({ name: 'ingest_reconcile_runs_total', help: 'Reconciliations of an index by outcome: clean, drift (something found), failed', labelNames: ['index', 'outcome'] as const, registers: [registry] }),
    reconcileLastRun: new Gauge({ name: 'ingest_reconcile_last_run_timestamp_seconds', help: 'When the last reconciliation of the index finished (Unix time)', labelNames: ['index'] as const, registers: [registry] }),
    reconcileSeconds: new Gauge({ name: 'ingest_reconcile_duration_seconds', help: 'How long the last reconciliation of the index took', labelNames: ['index'] as const, registers: [registry] }),
    reconcileRepairs: new Counter({ name: 'ingest_reconcile_repairs_total', help: 'Drifted documents sent to repair, by how: resnapshot (keys copied again or deleted through the stream) or deleted (an id no row can produce, deleted if unchanged)', labelNames: ['index', 'how'] as const, registers: [registry] }),
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
