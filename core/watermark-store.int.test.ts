import { es, uniqueName } from '../e2e/support/services';
import { ensureStateIndex, publishPositions, readPositions, readPositionsOf, readWatermark, STATE_INDEX, stateDocId, topicDocId } from './watermark-store';

/** The watermark store against the real Elasticsearch (realtime GETs of search_pipeline_state). */
describe('watermark store: reading positions', () => {
  const client = es();
  const created: string[] = [];
  const at = (index: string, partition: number, lsn: bigint, partitions = 3) => ({ index, topic: 'up.public.orders', partition, partitions, lsn });

  beforeAll(() => ensureStateIndex(client));
  afterAll(async () => {
    for (const id of created) await client.delete({ index: STATE_INDEX, id }, { ignore: [404] });
    await client.close();
  });

  function track(index: string, partitions: number): void {
    created.push(topicDocId(index, 'up.public.orders'));
    for (let p = 0; p < partitions; p++) created.push(stateDocId(index, 'up.public.orders', p));
  }

  it('finds the positions of a topic whose partition 0 never got an event', async () => {
    const index = uniqueName('wm_p0');
    track(index, 3);
    // An upstream topic fed through the intake: only partitions 1 and 2 received events.
    await publishPositions(client, [at(index, 1, 21n), at(index, 2, 20n)]);
    const read = await readPositions(client, index, 'up.public.orders');
    expect(read?.partitions).toBe(3);
    expect([...(read?.positions ?? new Map())].map(([p, d]) => [p, d.lsn]).sort()).toEqual([[1, '21'], [2, '20']]);
    // Partition 0 is still unknown, so there is no index-wide watermark yet; once it has one there is.
    expect(await readWatermark(client, index, 'up.public.orders')).toBeUndefined();
    await publishPositions(client, [at(index, 0, 13n)]);
    expect((await readWatermark(client, index, 'up.public.orders'))?.lsn).toBe(13n);
  });

  it('finds a partition added when the topic grew, with only the new partition published', async () => {
    const index = uniqueName('wm_grow');
    track(index, 5);
    await publishPositions(client, [at(index, 0, 5n, 2), at(index, 1, 6n, 2)]);
    await publishPositions(client, [at(index, 4, 9n, 5)]);
    const read = await readPositions(client, index, 'up.public.orders');
    expect([read?.partitions, [...(read?.positions.keys() ?? [])].sort()]).toEqual([5, [0, 1, 4]]);
  });

  it('reads several indexes at once, whatever partition count it was told to expect', async () => {
    const [alias, concrete, none] = [uniqueName('wm_alias'), uniqueName('wm_v2'), uniqueName('wm_none')];
    track(alias, 3);
    track(concrete, 3);
    await publishPositions(client, [at(alias, 0, 5n), at(alias, 2, 7n), at(concrete, 1, 9n)]);
    for (const expected of [1, 3, 8]) {
      const read = await readPositionsOf(client, [alias, concrete, none], 'up.public.orders', expected);
      expect([...(read.get(alias)?.positions.keys() ?? [])].sort()).toEqual([0, 2]);
      expect([...(read.get(concrete)?.positions.keys() ?? [])]).toEqual([1]);
      expect([read.get(alias)?.partitions, read.get(concrete)?.partitions, read.get(none)]).toEqual([3, 3, undefined]);
    }
  });

  it('reads nothing for an index nothing published', async () => {
    expect(await readPositions(client, uniqueName('wm_none'), 'up.public.orders')).toBeUndefined();
  });
});
