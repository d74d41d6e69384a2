import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { keyPartition } from './kafka-partitioner';

describe('key → partition, as Kafka\'s default partitioner', () => {
  it('agrees with kafkajs\' DefaultPartitioner for keys of every length, ASCII and multi-byte', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const metadata = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const keys = ['', 'a', '{"id":1}', '{"id":"9223372036854775807"}', '{"b":"k","id":1}', 'é', '\u{1F600}x', 'x'.repeat(1000)];
    for (let i = 0; i < 3000; i++) keys.push(randomBytes(i % 70).toString(i % 3 === 0 ? 'hex' : i % 3 === 1 ? 'base64' : 'latin1'));
    for (const n of [1, 3, 7, 12]) {
      const meta = metadata(n);
      for (const key of keys) expect([key, keyPartition(key, n)]).toEqual([key, kafkajs({ topic: 't', partitionMetadata: meta, message: { key, value: null } })]);
    }
  });
});
