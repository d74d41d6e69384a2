import { existing, withCluster, type ClusterSource } from '../../core/kafka-cluster';

/**
 * The table topics that ever received an event (high watermark above 0: offsets never go back,
 * even after retention deleted the messages). Events there mean this pipeline ran before.
 */
export async function topicsWithEvents(source: ClusterSource, topics: readonly string[]): Promise<string[]> {
  return withCluster(source(), async (cluster) => {
    const found: string[] = [];
    for (const topic of await existing(cluster, topics)) {
      if ((await cluster.offsets(topic)).some((o) => BigInt(o.high) > 0n)) found.push(topic);
    }
    return found;
  });
}
