import { Partitioners } from 'kafkajs';
import { kafka, uniqueName } from '../e2e/support/services';
import { ensureTopics } from './kafka';

/** Real Kafka: ingest and indexer ensure the same topics at the same moment on a fresh broker. */
describe('ensureTopics against Kafka', () => {
  it('lets two racing services create the same topics, and a produce right after succeeds', async () => {
    const topics = [uniqueName('race_a'), uniqueName('race_b')];
    await Promise.all([ensureTopics(kafka(), topics, 3), ensureTopics(kafka(), topics, 3), ensureTopics(kafka(), [...topics].reverse(), 3)]);

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
});
