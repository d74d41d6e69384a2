import { change, indexerFor, keyless, startRefreshOnlyIndexer, type Harness } from '../e2e/support/indexer-harness';
import { eventually } from '../e2e/support/services';

/** indexer_commit_to_searchable_seconds against real Kafka and Elasticsearch. */
describe('commit-to-searchable histogram', () => {
  let h: Harness;
  let run: ReturnType<typeof indexerFor>;
  let close: () => Promise<void>;

  // Only the indexer's refresh makes documents searchable, so an observation made before it would show.
  beforeAll(async () => void ({ h, run, close } = await startRefreshOnlyIndexer(2)));
  afterAll(() => close?.());

  const histogram = async (): Promise<{ count: number; sum: number }> => {
    const m = (await run.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'indexer_commit_to_searchable_seconds');
    const values = (m?.values ?? []) as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>;
    const pick = (suffix: string): number => values.find((v) => v.metricName === `indexer_commit_to_searchable_seconds${suffix}` && v.labels.index === h.index)?.value ?? 0;
    return { count: pick('_count'), sum: pick('_sum') };
  };

  it('observes a change once it is searchable, measured from its commit time', async () => {
    const committed = Date.now() - 1_000; // a commit one second before the indexer sees it
    await h.send({ ...change(1, 100, { title: 'one', n: 1 }), ts: new Date(committed).toISOString() });
    const seen = await eventually(async () => {
      const hm = await histogram();
      return hm.count >= 1 ? hm : undefined;
    }, 'an observation');
    // Observed only after the refresh: the document is searchable by then.
    expect((await h.client.count({ index: h.index, query: { term: { n: 1 } } })).count).toBe(1);
    expect(seen.count).toBe(1);
    expect(seen.sum).toBeGreaterThanOrEqual(1);
    expect(seen.sum).toBeLessThan(1 + (Date.now() - committed) / 1000);
  });

  it('keeps observing on heartbeats alone, one per partition position they move', async () => {
    const before = (await histogram()).count;
    await h.broadcast(keyless('h', 200));
    const after = await eventually(async () => {
      const hm = await histogram();
      return hm.count >= before + h.partitions ? hm : undefined;
    }, 'a heartbeat observation per partition');
    expect(after.count).toBe(before + h.partitions);
  });
});
