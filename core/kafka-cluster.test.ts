import { consumerLag, existing, partitionCounts, withCluster, type KafkaCluster } from './kafka-cluster';

/** A cluster of fixed answers; every method a test does not set fails loudly. */
function fakeCluster(over: Partial<KafkaCluster>): KafkaCluster & { closed: number } {
  const missing = (name: string) => () => Promise.reject(new Error(`fake cluster: ${name} not expected`));
  const c = {
    closed: 0,
    topicNames: missing('topicNames'), describeCluster: missing('describeCluster'), describeTopics: missing('describeTopics'), createTopics: missing('createTopics'),
    offsets: missing('offsets'), committed: missing('committed'), setCommitted: missing('setCommitted'), deleteGroups: missing('deleteGroups'), topicConfigs: missing('topicConfigs'),
    close: async () => void c.closed++,
    ...over,
  };
  return c;
}

describe('the cluster port helpers', () => {
  it('withCluster closes the connection whether the work succeeds or fails', async () => {
    const c = fakeCluster({});
    expect(await withCluster(c, async () => 7)).toBe(7);
    await expect(withCluster(c, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(c.closed).toBe(2);
  });

  it('asks for no topic description when no topic is asked, and lists only the topics that exist', async () => {
    const c = fakeCluster({ topicNames: async () => ['a', 'c'], describeTopics: async (t) => t.map((name) => ({ name, partitions: [{ partition: 0, leader: 1, replicas: [1] }] })) });
    expect(await partitionCounts(fakeCluster({}), [])).toEqual(new Map());
    expect(await existing(c, ['a', 'b', 'c'])).toEqual(['a', 'c']);
    expect(await partitionCounts(c, ['a'])).toEqual(new Map([['a', 1]]));
  });

  it('counts lag from the committed offset, or from the low watermark where the group committed nothing', async () => {
    const c = fakeCluster({
      committed: async () => [{ topic: 't', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '-1' }] }],
      offsets: async () => [{ partition: 0, low: '0', high: '9' }, { partition: 1, low: '3', high: '10' }, { partition: 2, low: '0', high: '2' }],
    });
    expect(await consumerLag(c, 'g', ['t'])).toEqual([{ topic: 't', partition: 0, lag: 4 }, { topic: 't', partition: 1, lag: 7 }, { topic: 't', partition: 2, lag: 2 }]);
  });
});
