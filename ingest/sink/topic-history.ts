import type { Kafka } from 'kafkajs';

/**
 * The table topics that ever received an event (high watermark above 0: offsets never go back,
 * even after retention deleted the messages). Events there mean this pipeline ran before.
 */
export async function topicsWithEvents(kafka: Kafka, topics: readonly string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const found: string[] = [];
    for (const topic of topics.filter((t) => existing.has(t))) {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (offsets.some((o) => BigInt(o.high) > 0n)) found.push(topic);
    }
    return found;
  } finally {
    await admin.disconnect();
  }
}
