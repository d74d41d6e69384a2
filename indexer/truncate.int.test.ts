import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { readWatermark } from '../core/watermark-store';
import { allDocs, change, createHarness, indexerFor, keyless, type Harness } from '../e2e/support/indexer-harness';
import { eventually, kafka, readTopic } from '../e2e/support/services';

/** TRUNCATE against real Kafka and Elasticsearch. */
describe('truncate', () => {
  let h: Harness;
  let run: ReturnType<typeof indexerFor>;
  const sendTo = (partition: number, ...events: ChangeEvent[]) =>
    h.producer.send({ topic: h.topic, acks: -1, messages: events.map((e) => ({ partition, key: e.key && Object.keys(e.key).length ? canonicalKey(e.key) : null, value: JSON.stringify(e) })) });
  const count = async () => (await h.client.count({ index: h.index })).count;
  const watermarkAt = (lsn: bigint) => eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn ?? 0n) >= lsn || undefined, `watermark ${lsn}`);

  beforeAll(async () => {
    h = await createHarness(3);
    run = indexerFor(h);
    await run.indexer.start();
  });

  afterAll(async () => {
    await run.close();
    await h.close();
  });

  it('deletes every older document, spares later transactions and the rows its own transaction wrote after it', async () => {
    // Rows before the truncate, on every partition, and one row of a later transaction (300).
    await h.send(...Array.from({ length: 30 }, (_, i) => change(i + 1, 100, { title: `old ${i + 1}` })), change(31, 300, { title: 'later tx' }));
    await h.broadcast(keyless('h', 150));
    await watermarkAt(150n);
    expect(await count()).toBe(31);

    // BEGIN; TRUNCATE; INSERT 40..44; COMMIT (commit 200): partition 0 gets the truncate and the
    // inserts first; the other partitions apply their copy of the truncate only after those
    // rows are durable, and must spare them (equal version).
    await sendTo(0, keyless('t', 200), ...Array.from({ length: 5 }, (_, i) => change(40 + i, 200, { title: `reloaded ${40 + i}` })));
    await eventually(async () => ((await h.client.exists({ index: h.index, id: '44' })) ? true : undefined), 'reloaded rows durable');
    await sendTo(1, keyless('t', 200));
    await sendTo(2, keyless('t', 200));
    // A row of the truncated table changed by a later transaction, and a stale write of an old row.
    await h.send(change(5, 250, { title: 'back again' }), change(6, 120, { title: 'stale' }));
    await h.broadcast(keyless('h', 400));
    await watermarkAt(400n);

    const docs = await allDocs(h.client, h.index);
    expect([...docs.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(['5', '31', '40', '41', '42', '43', '44']);
    expect(docs.get('5')!.version).toBe('250');
    expect(docs.get('40')!.version).toBe('200');
    expect(docs.get('31')!.version).toBe('300');
    expect(run.fatal).toEqual([]);
  });

  it('drops the rows its own transaction wrote before it (same partition)', async () => {
    // BEGIN; INSERT 60; TRUNCATE; COMMIT (commit 500) in one partition.
    await sendTo(1, change(60, 500, { title: 'inserted then truncated' }), keyless('t', 500));
    await sendTo(0, keyless('t', 500));
    await sendTo(2, keyless('t', 500));
    await h.broadcast(keyless('h', 600));
    await watermarkAt(600n);
    expect(await count()).toBe(0);
    // Nothing was dead-lettered: truncates are applied, no longer parked.
    await expect(readTopic(kafka(), `${h.prefix}.dead-letters`, 1, 2_000)).rejects.toThrow(/timed out/);
  });
});
