import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createIndexerMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'indexer_' });
  return {
    registry,
    docs: new Counter({ name: 'indexer_docs_total', help: 'Bulk items written (including stale no-ops)', labelNames: ['topic'] as const, registers: [registry] }),
    bulkSeconds: new Histogram({ name: 'indexer_bulk_seconds', help: 'Bulk request latency', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    batchSize: new Histogram({ name: 'indexer_batch_docs', help: 'Documents per bulk request', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: [registry] }),
    retries: new Counter({ name: 'indexer_retried_items_total', help: 'Bulk items sent again', registers: [registry] }),
    deadLetters: new Counter({ name: 'indexer_dead_letters_total', help: 'Items parked in the dead-letter topic', labelNames: ['reason'] as const, registers: [registry] }),
  };
}
export type IndexerMetrics = ReturnType<typeof createIndexerMetrics>;
