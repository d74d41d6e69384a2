import { kafka, uniqueName } from '../e2e/support/services';
import { ensureTopics } from './kafka';
import { consumerLag, withCluster } from './kafka-cluster';
import { kafkajsCluster } from './kafkajs-cluster';
import { kafkajsClient } from './kafkajs-client';

/** Real Kafka: the cluster port's kafkajs adapter answers what the services ask, and reconnects after close. */
describe('the kafkajs cluster adapter', () => {
  it('describes partitions in order, reads offsets, commits and configs, and connects again after close', async () => {
    const topic = uniqueName('cluster');
    const group = uniqueName('cluster_g');
    await ensureTopics(kafkajsClient(kafka()), [topic], 3);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'a', value: '1', partition: 2 }, { key: 'b', value: '2', partition: 2 }, { key: 'c', value: '3', partition: 0 }] });
    await producer.disconnect();

    const cluster = kafkajsCluster(kafka());
    try {
      expect(await cluster.topicNames()).toContain(topic);
      const [described] = await cluster.describeTopics([topic]);
      expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
      expect(described!.partitions.every((p) => p.leader >= 0 && p.replicas.length === 1)).toBe(true);
      expect((await cluster.offsets(topic)).sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, low: '0', high: '1' }, { partition: 1, low: '0', high: '0' }, { partition: 2, low: '0', high: '2' },
      ]);
      expect((await cluster.topicConfigs([topic], ['retention.ms'])).get(topic)).toEqual(new Map([['retention.ms', '-1']]));
      expect(await consumerLag(cluster, group, [topic])).toEqual(expect.arrayContaining([{ topic, partition: 2, lag: 2 }, { topic, partition: 0, lag: 1 }]));
      await cluster.setCommitted(group, topic, [{ partition: 2, offset: '1' }]);
      await cluster.close();
      // A closed connection opens again on the next call.
      const committed = (await cluster.committed(group, [topic]))[0]!.partitions.sort((a, b) => a.partition - b.partition);
      expect(committed).toEqual([{ partition: 0, offset: '-1' }, { partition: 1, offset: '-1' }, { partition: 2, offset: '1' }]);
      await cluster.deleteGroups([group]);
    } finally {
      await cluster.close();
    }
    await withCluster(kafkajsCluster(kafka()), async (c) => {
      await expect(c.describeTopics([uniqueName('absent')])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    });
  });
});
