import { ensureStateIndex, publishPositions, readWatermark } from '../core/watermark-store';
import { change, createHarness, indexerFor, keyless, startRefreshOnlyIndexer, type Harness } from '../e2e/support/indexer-harness';
import { es, eventually, kafka, uniqueName } from '../e2e/support/services';

/** The freshness watermark against real Kafka and Elasticsearch. */
describe('freshness watermark', () => {
  let h: Harness;
  let run: ReturnType<typeof indexerFor>;
  let close: () => Promise<void>;

  // Only the indexer's own refresh may make documents searchable here, so a watermark that ran
  // ahead of the refresh would show up as a missing hit.
  beforeAll(async () => void ({ h, run, close } = await startRefreshOnlyIndexer(3)));
  afterAll(() => close?.());

  const searchableUpTo = async (lsn: bigint): Promise<number> => {
    const res = await h.client.count({ index: h.index, query: { range: { n: { lte: lsn.toString() } } } });
    return res.count;
  };

  it('has no watermark while a partition has no position yet', async () => {
    await h.send(change(1, 10, { title: 'one', n: 10 }));
    await eventually(async () => ((await h.client.exists({ index: h.index, id: '1' })) ? true : undefined), 'doc 1 durable');
    expect(await readWatermark(h.client, h.index, h.topic)).toBeUndefined();
  });

  it('reaches the last commit LSN, and every document at or below it is searchable whenever it is read', async () => {
    const sent: bigint[] = [10n];
    for (let round = 0; round < 5; round++) {
      const events = Array.from({ length: 40 }, (_, i) => {
        const lsn = 100 + round * 100 + i;
        sent.push(BigInt(lsn));
        return change(1000 + round * 40 + i, lsn, { title: `doc ${lsn}`, n: lsn });
      });
      await h.send(...events);
      await h.broadcast(keyless('h', 100 + round * 100 + 50));
      // Read the watermark while the writes flow; what it claims must be searchable right then.
      const wm = await readWatermark(h.client, h.index, h.topic);
      if (wm) expect(await searchableUpTo(wm.lsn)).toBe(sent.filter((l) => l <= wm.lsn).length);
    }
    const last = 100n + 4n * 100n + 50n;
    const wm = await eventually(async () => {
      const w = await readWatermark(h.client, h.index, h.topic);
      return w && w.lsn >= last ? w : undefined;
    }, 'watermark at the last heartbeat');
    expect(wm.lsn).toBe(last);
    expect(await searchableUpTo(wm.lsn)).toBe(sent.length);
    expect(Date.now() - wm.updatedAt.getTime()).toBeGreaterThanOrEqual(0);
  });

  it('keeps advancing on heartbeats alone, and reports its age', async () => {
    await h.broadcast(keyless('h', '9007199254740993'));
    const wm = await eventually(async () => {
      const w = await readWatermark(h.client, h.index, h.topic);
      return w && w.lsn === 9_007_199_254_740_993n ? w : undefined;
    }, 'watermark above 2^53, exact');
    expect(wm.lsn.toString()).toBe('9007199254740993');
    const metrics = await run.metrics.registry.getSingleMetricAsString('indexer_watermark_age_seconds');
    expect(metrics).toContain(`index="${h.index}"`);
    // Everything consumed and committed: the group's lag is 0 on every partition.
    const lag = await eventually(async () => {
      const text = await run.metrics.registry.getSingleMetricAsString('indexer_consumer_lag');
      return [0, 1, 2].every((p) => text.includes(`indexer_consumer_lag{topic="${h.topic}",partition="${p}"} 0`)) ? text : undefined;
    }, 'consumer lag 0 on every partition');
    expect(lag).not.toMatch(/ [1-9]\d*$/m);
  });
});

describe('freshness watermark after a takeover', () => {
  let h: Harness;
  const members: Array<ReturnType<typeof indexerFor>> = [];
  afterAll(async () => {
    // Closing the first member refreshes (its last tick): only once the assertions are done.
    for (const m of members.reverse()) await m.close().catch(() => undefined);
    await h.close();
  });

  it('refreshes what the previous member wrote before publishing over it, even on heartbeats alone', async () => {
    h = await createHarness(1);
    const group = uniqueName('g');
    // The first member writes but never refreshes (its watermark task waits a minute), then goes
    // away without its last tick, as a crashed process does: its writes are durable and committed.
    // The index keeps its 30 s backstop refresh (indexer/mappings.ts), well beyond this test: set
    // to anything else, the next member's start would set it back, which refreshes the index.
    const first = indexerFor(h, { groupId: group, env: { INDEXER_WATERMARK_INTERVAL_MS: '60000' } });
    members.push(first);
    await first.indexer.start();
    await h.send(...Array.from({ length: 20 }, (_, i) => change(i + 1, 100 + i, { title: `doc ${i}`, n: 100 + i })));
    const admin = kafka().admin();
    await admin.connect();
    try {
      await eventually(async () => {
        const [t] = await admin.fetchOffsets({ groupId: group, topics: [h.topic] });
        return t?.partitions[0]?.offset === '20' ? true : undefined;
      }, 'offsets committed');
    } finally {
      await admin.disconnect();
    }
    await first.indexer.publisher.stop();
    await first.indexer.group.disconnect();
    expect((await h.client.count({ index: h.index })).count).toBe(0); // durable, not refreshed

    // The next member gets heartbeats only: it writes nothing, yet its watermark covers those writes.
    const next = indexerFor(h, { groupId: group });
    members.push(next);
    await next.indexer.start();
    await h.broadcast(keyless('h', 500));
    const wm = await eventually(async () => {
      const w = await readWatermark(h.client, h.index, h.topic);
      return w && w.lsn >= 500n ? w : undefined;
    }, 'watermark at the heartbeat');
    expect(wm.lsn).toBe(500n);
    expect((await h.client.count({ index: h.index })).count).toBe(20);
  });
});

describe('watermark store', () => {
  const client = es();
  afterAll(() => client.close());

  it('never moves a partition back, and needs every partition', async () => {
    const index = uniqueName('wm');
    await ensureStateIndex(client);
    const at = (partition: number, lsn: bigint) => ({ index, topic: 't', partition, partitions: 2, lsn });
    await publishPositions(client, [at(0, 50n), at(1, 40n)]);
    expect((await readWatermark(client, index, 't'))?.lsn).toBe(40n);
    await publishPositions(client, [at(1, 30n)]); // a process that took over and replays
    expect((await readWatermark(client, index, 't'))?.lsn).toBe(40n);
    await publishPositions(client, [{ ...at(1, 60n), partitions: 3 }]); // the topic grew
    expect(await readWatermark(client, index, 't')).toBeUndefined();
  });
});
