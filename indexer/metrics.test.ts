import { createIndexerMetrics } from './metrics';

/** Issue 4 item 8: every figure an operator needs is on /metrics. */
describe('indexer metrics', () => {
  it('exposes docs, bulk latency and size, retries, dead letters, pauses, consumer lag and watermark age', async () => {
    const m = createIndexerMetrics();
    m.sources.watermarkCommitMs.set('books', Date.now() - 5_000);
    m.sources.consumerLag = async () => [{ topic: 't', partition: 0, lag: 7 }];
    const text = await m.registry.metrics();
    for (const name of ['indexer_docs_total', 'indexer_bulk_seconds', 'indexer_batch_docs', 'indexer_bulk_bytes', 'indexer_retried_items_total', 'indexer_dead_letters_total', 'indexer_paused_bulk_requests', 'indexer_in_flight_messages', 'indexer_unchanged_unresolved_total', 'indexer_unchanged_fetched_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/indexer_consumer_lag\{topic="t",partition="0"\} 7/);
    const age = Number(/indexer_watermark_age_seconds\{index="books"\} ([\d.]+)/.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(5);
  });
});

describe('indexer_commit_to_searchable_seconds', () => {
  it('is a histogram per index with buckets around a one-second objective', async () => {
    const m = createIndexerMetrics();
    m.commitToSearchable.observe({ index: 'books' }, 0.4);
    m.commitToSearchable.observe({ index: 'books' }, 4);
    const text = await m.registry.getSingleMetricAsString('indexer_commit_to_searchable_seconds');
    expect(text).toContain('# TYPE indexer_commit_to_searchable_seconds histogram');
    expect(text).toContain('indexer_commit_to_searchable_seconds_bucket{le="0.5",index="books"} 1');
    expect(text).toContain('indexer_commit_to_searchable_seconds_bucket{le="1",index="books"} 1');
    expect(text).toContain('indexer_commit_to_searchable_seconds_bucket{le="5",index="books"} 2');
    expect(text).toContain('indexer_commit_to_searchable_seconds_count{index="books"} 2');
  });
});
