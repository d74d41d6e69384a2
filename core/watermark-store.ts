import type { Client } from '@elastic/elasticsearch';
import { DEFAULT_INDEX_REPLICATION, replicationSettings, type IndexReplication } from './elasticsearch';

/**
 * The freshness watermark, stored in Elasticsearch so the API reads it with the client it already
 * has (no Redis, no Kafka). One document per (index, topic, partition): the highest commit LSN of
 * that partition such that every change up to it is durable and refreshed (searchable).
 * The watermark of an index = the minimum over every partition of its topic; a partition that has
 * no position yet means there is no watermark.
 *
 * Documents are written with `version = lsn, version_type = external_gte`, so a process that
 * takes over a partition and replays from an older committed offset can never move it backwards.
 *
 * Beside them, one document per (index, topic) records the topic's partition count: a reader
 * needs it before it knows which partitions to ask for, and no single partition can be relied on
 * to have a position (an upstream topic may have events on some partitions only).
 */
export const STATE_INDEX = 'search_pipeline_state';

export interface PartitionPosition {
  index: string;
  topic: string;
  partition: number;
  /** Partitions of the topic when published; readers need it to know which positions to expect. */
  partitions: number;
  lsn: bigint;
  /** Commit time of the change at `lsn` (the event's `ts`), for the watermark age. */
  commitTs?: string;
  /**
   * Changes whenever a batch that wrote documents of this index on this partition became
   * searchable, and only then (heartbeats leave it alone); never repeats. Cache generations
   * are built from it. Absent from positions published by older indexers.
   */
  dataMark?: string;
}

export interface Watermark { lsn: bigint; updatedAt: Date }

interface StateDoc { index: string; topic: string; partition: number; partitions: number; lsn: string; commitTs?: string; dataMark?: string; updatedAt: string }
interface TopicDoc { index: string; topic: string; partitions: number; updatedAt: string }

export function stateDocId(index: string, topic: string, partition: number): string {
  return `${index}|${topic}|${partition}`;
}

/** The (index, topic) document holding the partition count. */
export function topicDocId(index: string, topic: string): string {
  return `${index}|${topic}`;
}

/** `replication`: ELASTICSEARCH_STATE_INDEX_SHARDS / _REPLICAS, applied when the index is created. */
export async function ensureStateIndex(es: Client, replication: IndexReplication = DEFAULT_INDEX_REPLICATION): Promise<void> {
  if (await es.indices.exists({ index: STATE_INDEX })) return;
  try {
    await es.indices.create({
      index: STATE_INDEX,
      settings: replicationSettings(replication),
      mappings: {
        dynamic: false,
        properties: {
          index: { type: 'keyword' }, topic: { type: 'keyword' }, partition: { type: 'integer' }, partitions: { type: 'integer' },
          lsn: { type: 'keyword' }, commitTs: { type: 'date' }, dataMark: { type: 'keyword' }, updatedAt: { type: 'date' },
        },
      },
    });
  } catch (err) {
    if ((err as { body?: { error?: { type?: string } } }).body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
}

/**
 * Writes positions. A 409 means a newer position is already stored (another process owns the
 * partition now, or this one restarted behind it): that is success.
 */
export async function publishPositions(es: Client, positions: readonly PartitionPosition[], now: Date = new Date()): Promise<void> {
  if (!positions.length) return;
  const updatedAt = now.toISOString();
  let body = '';
  const topics = new Map<string, TopicDoc>();
  for (const p of positions) {
    const doc: StateDoc = { index: p.index, topic: p.topic, partition: p.partition, partitions: p.partitions, lsn: p.lsn.toString(), updatedAt, ...(p.commitTs ? { commitTs: p.commitTs } : {}), ...(p.dataMark ? { dataMark: p.dataMark } : {}) };
    // NDJSON by hand: the version is a BigInt the client would refuse.
    body += `{"index":{"_index":"${STATE_INDEX}","_id":${JSON.stringify(stateDocId(p.index, p.topic, p.partition))},"version":${p.lsn.toString()},"version_type":"external_gte"}}\n${JSON.stringify(doc)}\n`;
    const id = topicDocId(p.index, p.topic);
    if ((topics.get(id)?.partitions ?? 0) < p.partitions) topics.set(id, { index: p.index, topic: p.topic, partitions: p.partitions, updatedAt });
  }
  // Versioned by the count: a publisher that still knows fewer partitions cannot shrink it.
  for (const [id, t] of topics) body += `{"index":{"_index":"${STATE_INDEX}","_id":${JSON.stringify(id)},"version":${t.partitions},"version_type":"external_gte"}}\n${JSON.stringify(t)}\n`;
  const res = (await es.bulk({ body } as never)) as unknown as { errors: boolean; items: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>> };
  if (!res.errors) return;
  const failed = res.items.map((i) => Object.values(i)[0]!).filter((i) => i.status >= 300 && i.status !== 409);
  if (failed.length) throw new Error(`publishing watermark positions failed: ${failed[0]!.status} ${failed[0]!.error?.type ?? ''} ${failed[0]!.error?.reason ?? ''}`);
}

/**
 * Every stored partition position of one index's topic (realtime GETs, no refresh needed). The
 * partition count is the largest any publisher recorded (the topic document, else the positions
 * themselves for state written before it existed), so a topic that grew is not reported complete
 * while its new partitions have no position, and partitions without any event are no obstacle to
 * finding the others.
 */
export async function readPositions(es: Client, index: string, topic: string): Promise<PositionsRead | undefined> {
  return (await readPositionsOf(es, [index], topic)).get(index);
}

export interface PositionsRead { partitions: number; positions: Map<number, StateDoc> }

/**
 * readPositions for several index names at once (an alias and the concrete index behind it), in
 * one request when `expectedPartitions` (the count seen last time) is right: the topic documents
 * and that many partitions of each, then whatever the topic documents say is missing.
 */
export async function readPositionsOf(es: Client, indexes: readonly string[], topic: string, expectedPartitions = 1): Promise<Map<string, PositionsRead | undefined>> {
  const state = indexes.map((index) => ({ index, partitions: 1, read: 0, positions: new Map<number, StateDoc>() }));
  const wanted = Math.max(1, expectedPartitions);
  const first = await mget<TopicDoc & StateDoc>(es, state.flatMap((s) => [topicDocId(s.index, topic), ...Array.from({ length: wanted }, (_, p) => stateDocId(s.index, topic, p))]));
  state.forEach((s, k) => {
    const [topicDoc, ...docs] = first.slice(k * (wanted + 1), (k + 1) * (wanted + 1));
    s.partitions = Math.max(1, topicDoc?.partitions ?? 0);
    take(s, docs, 0);
    s.read = first.length ? wanted : Infinity; // nothing came back: the state index went away meanwhile
  });
  for (;;) {
    const pending = state.filter((s) => s.read < s.partitions);
    if (!pending.length) break;
    const ids = pending.map((s) => Array.from({ length: s.partitions - s.read }, (_, i) => stateDocId(s.index, topic, s.read + i)));
    const docs = await mget<StateDoc>(es, ids.flat());
    let at = 0;
    pending.forEach((s, k) => {
      const n = ids[k]!.length;
      const from = s.read;
      s.read = docs.length ? s.read + n : Infinity;
      take(s, docs.slice(at, at + n), from);
      at += n;
    });
  }
  return new Map(state.map((s) => [s.index, s.positions.size ? { partitions: s.partitions, positions: s.positions } : undefined]));
}

/** Records the positions found from partition `from` on; a position naming more partitions raises the count. */
function take(s: { partitions: number; positions: Map<number, StateDoc> }, docs: Array<StateDoc | undefined>, from: number): void {
  docs.forEach((d, i) => {
    if (!d) return;
    s.positions.set(from + i, d);
    s.partitions = Math.max(s.partitions, d.partitions);
  });
}

/**
 * The watermark of `index` fed from `topic`: the lowest position over all partitions, and the
 * oldest `updatedAt` among them (the time by which all of it was known to be searchable).
 */
export async function readWatermark(es: Client, index: string, topic: string): Promise<Watermark | undefined> {
  const read = await readPositions(es, index, topic);
  if (!read || read.positions.size < read.partitions) return undefined;
  let lsn: bigint | undefined;
  let updatedAt: Date | undefined;
  for (const d of read.positions.values()) {
    const v = BigInt(d.lsn);
    const at = new Date(d.updatedAt);
    if (lsn === undefined || v < lsn) lsn = v;
    if (updatedAt === undefined || at < updatedAt) updatedAt = at;
  }
  return lsn === undefined || updatedAt === undefined ? undefined : { lsn, updatedAt };
}

async function mget<T>(es: Client, ids: string[]): Promise<Array<T | undefined>> {
  if (!ids.length) return [];
  const res = await es.mget<T>({ index: STATE_INDEX, ids }, { ignore: [404] });
  return (res.docs ?? []).map((d) => ('found' in d && d.found ? d._source : undefined));
}
