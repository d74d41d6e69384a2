import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from './logger';

/** A kafkajs client whose logs go through our structured logger. */
export function createKafka(brokers: string[], clientId: string, log: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      const ctx = { kafkajs: namespace, ...rest };
      if (level <= logLevel.ERROR) log.error(message, ctx);
      else log.warn(message, ctx);
    },
  });
}

/** Creates the per-table topics up front so partition counts are ours, not the broker default. */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })) });
    }
  } finally {
    await admin.disconnect();
  }
}
