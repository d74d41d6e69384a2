import type { Admin } from 'kafkajs';

/**
 * Consumer lag of the group per partition: the partition's high watermark minus the group's
 * committed offset (or minus the low watermark when nothing is committed yet).
 */
export async function consumerLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<Array<{ topic: string; partition: number; lag: number }>> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const out: Array<{ topic: string; partition: number; lag: number }> = [];
  for (const { topic, partitions } of committed) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const end of ends) {
      const c = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(c) < 0n ? BigInt(end.low) : BigInt(c);
      out.push({ topic, partition: end.partition, lag: Number(BigInt(end.high) - from) });
    }
  }
  return out;
}
