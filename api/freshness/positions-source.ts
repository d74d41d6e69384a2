import type { Client } from '@elastic/elasticsearch';
import type { IndexSpec } from '../../config/pipeline';
import { topicFor } from '../../core/change-event';
import { readPositions } from '../../core/watermark-store';

/** What the indexer published for one index: per partition of its topic, the searchable position. */
export interface IndexPositions {
  topic: string;
  /** Partitions of the topic; a partition without a position means no complete watermark yet. */
  partitions: number;
  positions: ReadonlyMap<number, PartitionReading>;
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
  /** Per index, the concrete index read last time: its positions are read alongside, in the common case. */
  private readonly lastTarget = new Map<string, string>();

  constructor(private readonly es: Client, private readonly topicPrefix: string) {}

  topicOf(index: IndexSpec): string {
    return topicFor(this.topicPrefix, index.source);
  }

  async read(index: IndexSpec): Promise<IndexPositions> {
    const topic = this.topicOf(index);
    const guess = this.lastTarget.get(index.name);
    const [read, targetName, guessed] = await Promise.all([readPositions(this.es, index.name, topic), this.targetOf(index.name), guess ? this.marksOf(guess, topic) : undefined]);
    let target: IndexPositions['target'];
    if (targetName) {
      target = { name: targetName, marks: targetName === guess && guessed ? guessed : await this.marksOf(targetName, topic) };
      this.lastTarget.set(index.name, targetName);
    }
    const positions = new Map<number, PartitionReading>();
    for (const [p, d] of read?.positions ?? []) positions.set(p, { lsn: BigInt(d.lsn), updatedAt: d.updatedAt, ...(d.commitTs ? { commitTs: d.commitTs } : {}), ...(d.dataMark ? { dataMark: d.dataMark } : {}) });
    return { topic, partitions: read?.partitions ?? 0, positions, ...(target ? { target } : {}) };
  }

  private async targetOf(name: string): Promise<string | undefined> {
    const res = (await this.es.indices.getAlias({ name }, { ignore: [404] })) as Record<string, { aliases?: unknown }>;
    const concrete = Object.keys(res).filter((k) => typeof res[k] === 'object' && res[k] !== null && 'aliases' in res[k]);
    return concrete.length ? concrete.sort().join(',') : undefined;
  }

  private async marksOf(concrete: string, topic: string): Promise<string[]> {
    const marks: string[] = [];
    for (const name of concrete.split(',')) {
      for (const [p, d] of (await readPositions(this.es, name, topic))?.positions ?? []) marks.push(`${name}:${p}:${d.dataMark ?? `@${d.lsn}`}`);
    }
    return marks;
  }
}

/** For an app without a watermark store (unit tests, tools): every index reports none. */
export const NO_POSITIONS: PositionsSource = {
  topicOf: (index) => `${index.source.schema}.${index.source.table}`,
  read: async (index) => ({ topic: `${index.source.schema}.${index.source.table}`, partitions: 0, positions: new Map() }),
};
