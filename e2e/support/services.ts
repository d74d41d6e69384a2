import { randomBytes } from 'node:crypto';
import { Client as EsClient } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { Client as PgClient } from 'pg';

/** Clients for the real services of the local stack; names are unique per test so runs never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; the stack env was not loaded`);
  return v;
}

export async function pg(): Promise<PgClient> {
  const c = new PgClient({ connectionString: env('DATABASE_URL') });
  await c.connect();
  return c;
}

export function kafka(): Kafka {
  return new Kafka({ clientId: 'tests', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
}

export function es(): EsClient {
  return new EsClient({ node: env('ELASTICSEARCH_URL') });
}

/** Polls until `fn` returns a value other than undefined, or fails with the last value seen. */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads every message of a topic from the beginning until `count` arrived. */
export async function readTopic(k: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<Array<{ key: string; value: string; partition: number; offset: string }>> {
  const consumer = k.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const out: Array<{ key: string; value: string; partition: number; offset: string }> = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition, offset: message.offset });
    },
  });
  try {
    await eventually(async () => (out.length >= count ? true : undefined), `${count} messages on ${topic} (have ${out.length})`, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return out;
}
