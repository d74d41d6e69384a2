import type { KafkaCluster } from '../../../core/kafka-cluster';
import { keyPartition } from '../../../core/kafka-partitioner';
import type { PartitionBatch } from '../batch-producer';
import { encodeSend, WireMessageProducer } from './wire-message-producer';

/* eslint-disable @typescript-eslint/no-require-imports */
const Decoder = require('kafkajs/src/protocol/decoder');
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
/* eslint-enable @typescript-eslint/no-require-imports */
const read = async (b: PartitionBatch) => ({ topic: b.topic, partition: b.partition, records: ((await decodeRecordBatch(new Decoder(Buffer.from(b.records)))) as { records: Array<{ key: Buffer | null; value: Buffer }> }).records.map((r) => [r.key?.toString() ?? null, r.value.toString()]) });

describe('the producer port over the wire path', () => {
  it('makes one batch per (topic, partition), each partition\'s messages in the order given', async () => {
    const batches = encodeSend([
      { topic: 'a', partition: 1, key: 'k1', value: '1' },
      { topic: 'b', partition: 0, key: '', value: 'h' },
      { topic: 'a', partition: 0, key: 'k2', value: '2' },
      { topic: 'a', partition: 1, key: 'k3', value: '3' },
    ]);
    expect(await Promise.all(batches.map(read))).toEqual([
      { topic: 'a', partition: 1, records: [['k1', '1'], ['k3', '3']] },
      { topic: 'a', partition: 0, records: [['k2', '2']] },
      { topic: 'b', partition: 0, records: [['', 'h']] },
    ]);
  });

  it('places messages without a partition by key on the partition counts the cluster reports, read once', async () => {
    const sent: PartitionBatch[][] = [];
    let described = 0;
    const cluster = { describeTopics: async (topics: readonly string[]) => (described++, topics.map((name) => ({ name, partitions: [0, 1, 2, 3].map((partition) => ({ partition, leader: 1, replicas: [1] })) }))), close: async () => undefined } as unknown as KafkaCluster;
    const producer = new WireMessageProducer({ connect: async () => undefined, send: async (b) => void sent.push([...b]), close: async () => undefined }, () => cluster);
    const keys = ['{"id":1}', '{"id":2}', '{"id":3}'];
    await producer.send(keys.map((key) => ({ topic: 't', key, value: key })));
    await producer.send([{ topic: 't', key: null, value: 'no key' }]);
    expect(described).toBe(1);
    const placed = (await Promise.all(sent[0]!.map(read))).flatMap((b) => b.records.map(([k]) => [k, b.partition]));
    expect(placed.sort()).toEqual(keys.map((k) => [k, keyPartition(k, 4)]).sort());
    expect(sent[1]!.map((b) => b.partition)).toEqual([0]);
  });

  it('says what is missing when a message has no partition and there is no cluster to count them', async () => {
    const producer = new WireMessageProducer({ connect: async () => undefined, send: async () => undefined, close: async () => undefined });
    await expect(producer.send([{ topic: 't', key: 'k', value: 'v' }])).rejects.toThrow(/messages for t carry no partition/);
    expect(() => encodeSend([{ topic: 't', key: 'k', value: 'v' }])).toThrow(/carries no partition and no partition count was given/);
  });
});
