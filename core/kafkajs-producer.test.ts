import { keyPartition } from './kafka-partitioner';
import { sharedPartitioner } from './kafkajs-producer';

describe("kafkajs's partitioner slot", () => {
  const meta = Array.from({ length: 5 }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const place = sharedPartitioner();

  it('keeps a message\'s own partition (kafkajs asks for every message, placed or not)', () => {
    for (const partition of [0, 3, 4]) expect(place({ topic: 't', partitionMetadata: meta, message: { key: 'k', value: 'v', partition } })).toBe(partition);
  });

  it('places a keyed message with the pipeline\'s partitioner, a key-less one on partition 0', () => {
    for (const key of ['{"id":1}', '{"id":"é"}', 'x'.repeat(300)]) {
      expect(place({ topic: 't', partitionMetadata: meta, message: { key, value: 'v' } })).toBe(keyPartition(key, 5));
      expect(place({ topic: 't', partitionMetadata: meta, message: { key: Buffer.from(key), value: 'v' } })).toBe(keyPartition(key, 5));
    }
    expect(place({ topic: 't', partitionMetadata: meta, message: { key: null, value: 'v' } })).toBe(0);
  });
});
