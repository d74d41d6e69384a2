import type { Client } from '@elastic/elasticsearch';
import { silentLogger } from '../../core/logger';
import { PositionTracker } from './positions';
import { WatermarkPublisher } from './publisher';
import { SearchableSpans } from './searchable-spans';
import { CollectedSpans } from '../../core/collected-spans';
import { tracingWith } from '../../core/tracing';

/** A client with just what the publisher calls: refresh (may fail) and the positions' bulk. */
function fakeEs(opts: { refreshFails?: () => boolean } = {}) {
  const calls: string[] = [];
  const es = {
    indices: {
      refresh: async ({ index }: { index: string[] }) => {
        calls.push(`refresh ${index.join(',')}`);
        if (opts.refreshFails?.()) throw new Error('es down');
      },
    },
    bulk: async () => {
      calls.push('bulk');
      return { errors: false, items: [] };
    },
  };
  return { es: es as unknown as Client, calls };
}

describe('WatermarkPublisher: commit to searchable', () => {
  const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

  function setUp(refreshFails?: () => boolean) {
    const tracker = new PositionTracker();
    const { es, calls } = fakeEs({ refreshFails });
    const seen: Array<[string, number]> = [];
    const publisher = new WatermarkPublisher({
      es, tracker, log: silentLogger, intervalMs: 1_000,
      // Two indexes are built from topic a (a joined index reads it too), one from b.
      indexesByTopic: new Map([['a', ['books', 'authors']], ['b', ['other']]]),
      partitionCount: () => 2,
      onSearchable: (index, seconds) => void seen.push([index, seconds]),
    });
    return { tracker, publisher, seen, calls };
  }

  it('observes each recorded batch once, after the refresh, per index its topic feeds', async () => {
    const { tracker, publisher, seen, calls } = setUp();
    tracker.markWritten(['books']);
    tracker.record('a', 0, { lsn: 10n, commitTs: ago(2_000) }, ['books']);
    tracker.record('a', 1, { lsn: 11n, commitTs: ago(1_000) }, ['books']);
    await publisher.tick();
    expect(calls).toEqual(['refresh books', 'bulk']);
    expect(seen.map(([i]) => i)).toEqual(['books', 'authors', 'books', 'authors']);
    const [s0, , s1] = seen.map(([, s]) => s);
    expect(s0).toBeGreaterThanOrEqual(2);
    expect(s0).toBeLessThan(3);
    expect(s1).toBeGreaterThanOrEqual(1);
    expect(s1).toBeLessThan(2);
    seen.length = 0;
    await publisher.tick(); // nothing new: nothing observed again
    expect(seen).toEqual([]);
  });

  it('observes heartbeats without a refresh (nothing was written)', async () => {
    const { tracker, publisher, seen, calls } = setUp();
    tracker.record('b', 0, { lsn: 20n, commitTs: ago(300) }, []);
    await publisher.tick();
    expect(calls).toEqual(['bulk']);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe('other');
    expect(seen[0]![1]).toBeGreaterThanOrEqual(0.3);
  });

  it('observes nothing while the refresh fails, then the same batches once it succeeds, measured to that refresh', async () => {
    let down = true;
    const { tracker, publisher, seen } = setUp(() => down);
    tracker.markWritten(['other']);
    tracker.record('b', 0, { lsn: 30n, commitTs: ago(1_000) }, ['other']);
    await publisher.tick();
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    down = false;
    await publisher.tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(1.5);
  });

  it('counts a commit time ahead of this clock (skew) as 0 and skips one it cannot parse', async () => {
    const { tracker, publisher, seen } = setUp();
    tracker.record('b', 0, { lsn: 40n, commitTs: new Date(Date.now() + 60_000).toISOString() }, []);
    tracker.record('b', 0, { lsn: 41n, commitTs: 'not a time' }, []);
    await publisher.tick();
    expect(seen).toEqual([['other', 0]]);
  });

  it('refreshes the indexes the beforeRefresh hook adds, and calls its after only once a refresh succeeded', async () => {
    let down = true;
    const tracker = new PositionTracker();
    const { es, calls } = fakeEs({ refreshFails: () => down });
    let after = 0;
    const publisher = new WatermarkPublisher({
      es, tracker, log: silentLogger, intervalMs: 1_000, indexesByTopic: new Map([['a', ['books']]]), partitionCount: () => 1,
      beforeRefresh: (dirty) => ({ indexes: [...dirty, 'joined'], after: () => void after++ }),
    });
    tracker.markWritten(['books']);
    await publisher.tick();
    expect(after).toBe(0);
    down = false;
    await publisher.tick();
    expect(calls.filter((c) => c.startsWith('refresh'))).toEqual(['refresh books,joined', 'refresh books,joined']);
    expect(after).toBe(1);
  });
});

describe('WatermarkPublisher: traced changes', () => {
  it('ends their searchable spans only after a refresh succeeded, in a refresh span linked to them; a failed refresh keeps them for the next', async () => {
    const exporter = new CollectedSpans();
    const tracing = tracingWith(exporter, { service: 'indexer', sampleRatio: 1, exportDelayMs: 10 });
    let fail = true;
    const { es, calls } = fakeEs({ refreshFails: () => fail });
    const tracker = new PositionTracker();
    const spans = new SearchableSpans(tracing);
    const publisher = new WatermarkPublisher({ es, tracker, log: silentLogger, intervalMs: 1_000, indexesByTopic: new Map([['a', ['books']]]), partitionCount: () => 1, spans });
    const change = tracing.start('ingest.decode');
    const searchable = tracing.start('indexer.searchable', { parent: change.traceparent });
    change.end();
    tracker.markWritten(['books']);
    tracker.record('a', 0, { lsn: 10n, commitTs: new Date().toISOString() }, ['books']);
    spans.add([searchable]);

    await publisher.tick(); // the refresh fails
    await tracing.flush();
    expect(exporter.named('indexer.searchable')).toEqual([]);
    expect(exporter.named('indexer.refresh').map((s) => s.status.code)).toEqual([2]);
    fail = false;
    await publisher.tick();
    await tracing.shutdown();
    expect(calls).toEqual(['refresh books', 'refresh books', 'bulk']);
    const [ended] = exporter.named('indexer.searchable');
    const refreshes = exporter.named('indexer.refresh');
    expect(refreshes).toHaveLength(2);
    expect(refreshes[1]!.links.map((l) => l.context.spanId)).toEqual([ended!.spanContext().spanId]);
    expect(refreshes[1]!.attributes['pipeline.indexes']).toBe('books');
  });
});
