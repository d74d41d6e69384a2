import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Filled by the running indexer; read when /metrics is scraped, so ages keep growing while stuck. */
export interface MetricSources {
  /** Per index, commit time (ms) of the oldest published position this process owns. */
  watermarkCommitMs: Map<string, number>;
  consumerLag?: () => Promise<Array<{ topic: string; partition: number; lag: number }>>;
}

export function createIndexerMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'indexer_' });
  const sources: MetricSources = { watermarkCommitMs: new Map() };
  return {
    registry,
    sources,
    docs: new Counter({ name: 'indexer_docs_total', help: 'Bulk items written (including stale no-ops)', labelNames: ['topic'] as const, registers: [registry] }),
    bulkSeconds: new Histogram({ name: 'indexer_bulk_seconds', help: 'Bulk request latency', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    batchSize: new Histogram({ name: 'indexer_batch_docs', help: 'Documents per bulk request', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: [registry] }),
    bulkBytes: new Histogram({ name: 'indexer_bulk_bytes', help: 'Body size of bulk requests (cut by INDEXER_BATCH_MAX_BYTES)', buckets: [16_384, 65_536, 262_144, 1_048_576, 2_097_152, 5_242_880, 10_485_760, 20_971_520], registers: [registry] }),
    pausedRequests: new Gauge({ name: 'indexer_paused_bulk_requests', help: 'Bulk requests waiting for Elasticsearch to come back (down, 429 or 5xx on the whole request); above 0, consumption is paused', registers: [registry] }),
    retries: new Counter({ name: 'indexer_retried_items_total', help: 'Bulk items sent again', registers: [registry] }),
    deadLetters: new Counter({ name: 'indexer_dead_letters_total', help: 'Items parked in the dead-letter topic', labelNames: ['reason'] as const, registers: [registry] }),
    joinRebuilds: new Counter({ name: 'indexer_join_rebuilds_total', help: 'Joined documents rebuilt from Postgres (deletes of roots that are gone included), by index', labelNames: ['index'] as const, registers: [registry] }),
    joinFanOut: new Histogram({ name: 'indexer_join_fanout_documents', help: 'Documents one batch of changes rebuilt when it was more than one rebuild batch (a shared parent changed), by index', labelNames: ['index'] as const, buckets: [1e3, 1e4, 1e5, 1e6, 1e7], registers: [registry] }),
    unchangedUnresolved: new Counter({ name: 'indexer_unchanged_unresolved_total', help: 'Documents indexed without unchanged TOAST fields: neither their batch nor Elasticsearch held them (REPLICA IDENTITY FULL on the table avoids it)', labelNames: ['index'] as const, registers: [registry] }),
    unchangedFetched: new Counter({ name: 'indexer_unchanged_fetched_total', help: 'Documents whose unchanged TOAST fields were read back from Elasticsearch to be merged', labelNames: ['index'] as const, registers: [registry] }),
    truncates: new Counter({ name: 'indexer_truncates_total', help: 'TRUNCATEs applied to an index (once per partition carrying it)', labelNames: ['index'] as const, registers: [registry] }),
    inFlightMessages: new Gauge({ name: 'indexer_in_flight_messages', help: 'Messages being written and not yet committed (the next batch of each partition may wait decoded behind them); flat while Elasticsearch is down', registers: [registry] }),
    // Buckets around the objective (docs/operations.md): sub-second normally, the tail up to a
    // backlog of minutes (a consumer that fell behind, a table being copied).
    commitToSearchable: new Histogram({ name: 'indexer_commit_to_searchable_seconds', help: 'Per index, one observation per batch that moved its partition\'s position (user changes and heartbeats): seconds from the commit of the batch\'s last transaction (event ts) to the refresh that made it searchable', labelNames: ['index'] as const, buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300], registers: [registry] }),
    watermarkAge: new Gauge({ name: 'indexer_watermark_age_seconds', help: 'Now minus the commit time of the oldest published position of the partitions this process owns', labelNames: ['index'] as const, registers: [registry],
      collect() {
        this.reset();
        for (const [index, ms] of sources.watermarkCommitMs) this.set({ index }, Math.max(0, (Date.now() - ms) / 1000));
      },
    }),
    consumerLag: new Gauge({ name: 'indexer_consumer_lag', help: 'High watermark minus committed offset of the group, per partition', labelNames: ['topic', 'partition'] as const, registers: [registry],
      async collect() {
        const lag = await sources.consumerLag?.().catch(() => undefined);
        if (!lag) return;
        this.reset();
        for (const l of lag) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    }),
  };
}
export type IndexerMetrics = ReturnType<typeof createIndexerMetrics>;
