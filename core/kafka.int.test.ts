import { Partitioners } from 'kafkajs';
import { kafka, uniqueName } from '../e2e/support/services';
import { ConfigResourceTypes } from 'kafkajs';
import { ensureTopics } from './kafka';
import { kafkajsClient } from './kafkajs-client';

/** Real Kafka: ingest and indexer ensure the same topics at the same moment on a fresh broker. */
describe('ensureTopics against Kafka', () => {
  it('lets two racing services create the same topics, and a produce right after succeeds', async () => {
    const topics = [uniqueName('race_a'), uniqueName('race_b')];
    await Promise.all([ensureTopics(kafkajsClient(kafka()), topics, 3), ensureTopics(kafkajsClient(kafka()), topics, 3), ensureTopics(kafkajsClient(kafka()), [...topics].reverse(), 3)]);

    const admin = kafka().admin();
    await admin.connect();
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      for (const t of meta) {
        expect(t.partitions).toHaveLength(3);
        for (const p of t.partitions) expect(p.leader).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await admin.disconnect();
    }

    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
    await producer.connect();
    try {
      const sent = await producer.send({ topic: topics[0]!, acks: -1, messages: [{ key: 'k', value: 'v' }] });
      expect(sent[0]?.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }
  });

  /** The local stack is one broker: the defaults pick 1/1, written on the topic, and an impossible setting says what to set. */
  it('creates topics with the replication factor and min.insync.replicas as topic configs', async () => {
    const auto = uniqueName('repl_auto');
    const explicit = uniqueName('repl_explicit');
    await ensureTopics(kafkajsClient(kafka()), [auto], 2);
    await ensureTopics(kafkajsClient(kafka()), [explicit], 1, { replication: { replicationFactor: 1, minInsyncReplicas: 1 } });
    const admin = kafka().admin();
    await admin.connect();
    try {
      const brokers = (await admin.describeCluster()).brokers.length;
      expect(brokers).toBe(1);
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [auto, explicit] });
      for (const t of meta) for (const p of t.partitions) expect(p.replicas).toHaveLength(1);
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [auto, explicit].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas', 'retention.ms'] })) });
      for (const r of resources) {
        const entries = Object.fromEntries(r.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
        // Set on the topic itself (not the broker default), so the topic keeps it whatever the brokers say.
        expect(entries).toEqual({ 'min.insync.replicas': { value: '1', isDefault: false }, 'retention.ms': { value: '-1', isDefault: false } });
      }
    } finally {
      await admin.disconnect();
    }
    const tooMany = uniqueName('repl_too_many');
    await expect(ensureTopics(kafkajsClient(kafka()), [tooMany], 1, { replication: { replicationFactor: 3 } })).rejects.toThrow(/KAFKA_REPLICATION_FACTOR=3 but the Kafka cluster has 1 broker\(s\)/);
    await expect(ensureTopics(kafkajsClient(kafka()), [auto], 2, { replication: { minInsyncReplicas: 2 } })).rejects.toThrow(/KAFKA_MIN_INSYNC_REPLICAS=2 is above the replication factor 1/);
    const cleanup = kafka().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [auto, explicit] }).finally(() => cleanup.disconnect());
  });
});
