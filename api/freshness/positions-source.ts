import type { Client } from '@elastic/elasticsearch';
import { sourceTables, type IndexSpec } from '../../config/pipeline';
import { topicFor } from '../../core/change-event';
import { readPositionsOf, type PositionsRead } from '../../core/watermark-store';

/** What the indexer published for one index: per partition of its topic, the searchable position. */
export interface IndexPositions {
  topic: string;
  /** Partitions of the topic; a partition without a position means no complete watermark yet. */
  partitions: number;
  positions: ReadonlyMap<number, PartitionReading>;
  /**
   * The other topics a joined index reads (its relations' tables): a change there rebuilds
   * documents of the index too, so it is searchable only once those partitions' positions pass it.
   */
  related?: ReadonlyArray<{ topic: string; partitions: number; positions: ReadonlyMap<number, PartitionReading> }>;
  /**
   * The concrete index(es) the name resolves to (a reindex swaps them): answers computed over one
   * generation of the index are not answers over the next, even when no document changed. With
   * the data marks a reindex's own indexer published for it (its catch-up after the swap writes
   * there, not through the alias).
   */
  target?: { name: string; marks: string[] };
}

export interface PartitionReading {
  lsn: bigint;
  commitTs?: string;
  updatedAt: string;
  /** Moves only when documents of the partition changed (core/watermark-store.ts); absent from older indexers. */
  dataMark?: string;
}

/** Port in front of the watermark store, so freshness logic is tested without Elasticsearch. */
export interface PositionsSource {
  topicOf(index: IndexSpec): string;
  read(index: IndexSpec): Promise<IndexPositions>;
}

export class EsPositionsSource implements PositionsSource {
  /**
   * Per index, what the last reading found: the concrete index behind it and the partition
   * count, so the next reading asks for everything in one mget (beside one alias lookup).
   */
  private readonly last = new Map<string, { target?: string; partitions: number; related?: ReadonlyMap<string, number> }>();

  constructor(private readonly es: Client, private readonly topicPrefix: string) {}

  topicOf(index: IndexSpec): string {
    return topicFor(this.topicPrefix, index.source);
  }

  async read(index: IndexSpec): Promise<IndexPositions> {
    const topic = this.topicOf(index);
    const last = this.last.get(index.name);
    const guessed = last?.target ? last.target.split(',') : [];
    const relatedTopics = sourceTables(index).slice(1).map((t) => topicFor(this.topicPrefix, t));
    const [reads, targetName, relatedReads] = await Promise.all([
      readPositionsOf(this.es, [index.name, ...guessed], topic, last?.partitions),
      this.targetOf(index.name),
      Promise.all(relatedTopics.map(async (t) => (await readPositionsOf(this.es, [index.name], t, last?.related?.get(t))).get(index.name))),
    ]);
    const read = reads.get(index.name);
    let target: IndexPositions['target'];
    if (targetName) {
      const concrete = targetName.split(',');
      const targetReads = targetName === last?.target ? reads : await readPositionsOf(this.es, concrete, topic, read?.partitions);
      target = { name: targetName, marks: concrete.flatMap((name) => [...(targetReads.get(name)?.positions ?? [])].map(([p, d]) => `${name}:${p}:${d.dataMark ?? `@${d.lsn}`}`)) };
    }
    const related = relatedTopics.map((t, i) => ({ topic: t, partitions: relatedReads[i]?.partitions ?? 0, positions: readingsOf(relatedReads[i]) }));
    this.last.set(index.name, {
      ...(targetName ? { target: targetName } : {}),
      partitions: read?.partitions ?? 1,
      ...(related.length ? { related: new Map(related.map((r) => [r.topic, r.partitions || 1])) } : {}),
    });
    return { topic, partitions: read?.partitions ?? 0, positions: readingsOf(read), ...(related.length ? { related } : {}), ...(target ? { target } : {}) };
  }

  private async targetOf(name: string): Promise<string | undefined> {
    const res = (await this.es.indices.getAlias({ name }, { ignore: [404] })) as Record<string, { aliases?: unknown }>;
    const concrete = Object.keys(res).filter((k) => typeof res[k] === 'object' && res[k] !== null && 'aliases' in res[k]);
    return concrete.length ? concrete.sort().join(',') : undefined;
  }
}

function readingsOf(read: PositionsRead | undefined): Map<number, PartitionReading> {
  const positions = new Map<number, PartitionReading>();
  for (const [p, d] of read?.positions ?? []) positions.set(p, { lsn: BigInt(d.lsn), updatedAt: d.updatedAt, ...(d.commitTs ? { commitTs: d.commitTs } : {}), ...(d.dataMark ? { dataMark: d.dataMark } : {}) });
  return positions;
}

/** For an app without a watermark store (unit tests, tools): every index reports none. */
export const NO_POSITIONS: PositionsSource = {
  topicOf: (index) => `${index.source.schema}.${index.source.table}`,
  read: async (index) => ({ topic: `${index.source.schema}.${index.source.table}`, partitions: 0, positions: new Map() }),
};
