import { readWatermark } from '../core/watermark-store';
import { allDocs, change, createHarness, indexerFor, keyless, type Harness } from '../e2e/support/indexer-harness';
import { eventually, kafka } from '../e2e/support/services';
import { consumerLag, type KafkaCluster } from '../core/kafka-cluster';
import { kafkajsCluster } from '../core/kafkajs-cluster';

/** Replaying a topic from offset 0 into the same index leaves it identical (versions refuse stale writes). */
describe('replay from offset 0', () => {
  let h: Harness;
  let cluster: KafkaCluster;

  beforeAll(async () => {
    h = await createHarness(3);
    cluster = kafkajsCluster(kafka());
  });

  afterAll(async () => {
    await cluster.close();
    await h.close();
  });

  const caughtUp = (groupId: string) =>
    eventually(async () => ((await consumerLag(cluster, groupId, [h.topic])).every((l) => l.lag === 0) ? true : undefined), `group ${groupId} caught up`);

  it('ends with the same documents, contents and versions', async () => {
    // A history with updates, deletes and re-inserts, LSNs growing per transaction.
    let lsn = 1_000;
    for (let round = 0; round < 5; round++) {
      const events = [];
      for (let id = 1; id <= 200; id++) {
        lsn += 1;
        if ((id + round) % 7 === 0) events.push(change(id, lsn));
        else events.push(change(id, lsn, { title: `row ${id} round ${round}`, year: 1900 + round, n: lsn }));
      }
      await h.send(...events);
    }
    await h.broadcast(keyless('h', lsn + 1));

    const first = indexerFor(h);
    await first.indexer.start();
    await eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn === BigInt(lsn + 1) ? true : undefined), 'first pass searchable');
    await first.close();
    const before = await allDocs(h.client, h.index);
    expect(before.size).toBeGreaterThan(100);

    // Small fetches: the replay then writes old versions over newer documents, and must be refused.
    const replay = indexerFor(h, { env: { INDEXER_FETCH_MAX_BYTES_PER_PARTITION: '2048' } });
    await replay.indexer.start();
    await caughtUp(replay.config.groupId);
    await replay.close();
    const written = (await replay.metrics.docs.get()).values.reduce((s, v) => s + v.value, 0);
    expect(written).toBeGreaterThan(400); // several versions of each document were sent again
    expect(await allDocs(h.client, h.index)).toEqual(before);
  });
});
