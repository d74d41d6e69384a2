import type { Client } from '@elastic/elasticsearch';

export interface IndexDocument {
  id: string;
  source: Record<string, unknown>;
  /** The concrete index behind the alias, and the write it was read at: a conditional delete's arguments. */
  index: string;
  seqNo: number;
  primaryTerm: number;
}

interface Hit { _id: string; _index: string; _source?: Record<string, unknown>; _seq_no?: number; _primary_term?: number; sort?: unknown[] }
const toDocument = (h: Hit): IndexDocument => ({ id: h._id, source: h._source ?? {}, index: h._index, seqNo: h._seq_no ?? -1, primaryTerm: h._primary_term ?? -1 });

/** The documents of one search index (or its alias), read for reconciliation. */
export function indexDocuments(es: Client, index: string) {
  return {
    async count(): Promise<number> {
      return (await es.count({ index })).count;
    },
    /**
     * Every document, a page at a time, over a point in time in index order (_shard_doc: the
     * cheapest order, no sort on a field). Sees what was searchable when it started.
     */
    async *scan(pageSize = 2000): AsyncGenerator<IndexDocument> {
      const pit = await es.openPointInTime({ index, keep_alive: '2m' });
      let pitId = pit.id;
      try {
        let after: unknown[] | undefined;
        for (;;) {
          const res = await es.search({ pit: { id: pitId, keep_alive: '2m' }, size: pageSize, sort: ['_shard_doc'], seq_no_primary_term: true, track_total_hits: false, ...(after ? { search_after: after as never } : {}) });
          pitId = res.pit_id ?? pitId;
          const hits = res.hits.hits as Hit[];
          for (const h of hits) yield toDocument(h);
          if (hits.length < pageSize) return;
          after = hits[hits.length - 1]!.sort;
        }
      } finally {
        await es.closePointInTime({ id: pitId }).catch(() => undefined);
      }
    },
    /** `n` documents picked at random. */
    async sample(n: number): Promise<IndexDocument[]> {
      const res = await es.search({ index, size: n, seq_no_primary_term: true, query: { function_score: { query: { match_all: {} }, functions: [{ random_score: { seed: Date.now(), field: '_seq_no' } }], boost_mode: 'replace' } } });
      return (res.hits.hits as Hit[]).map(toDocument);
    },
    /** These documents as they are now (real time: no refresh needed), by id; absent ids are not in the map. */
    async get(ids: readonly string[]): Promise<Map<string, IndexDocument>> {
      const out = new Map<string, IndexDocument>();
      for (let i = 0; i < ids.length; i += 1000) {
        const res = await es.mget({ index, ids: ids.slice(i, i + 1000) });
        for (const d of res.docs as Array<Hit & { found?: boolean }>) if (d.found) out.set(d._id, toDocument(d));
      }
      return out;
    },
    /** Deletes the document only if it was not written since it was read (no row can ever produce it: see reconciler.ts). */
    async deleteIfUnchanged(d: IndexDocument): Promise<boolean> {
      try {
        await es.delete({ index: d.index, id: d.id, if_seq_no: d.seqNo, if_primary_term: d.primaryTerm });
        return true;
      } catch (err) {
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409 || (err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return false;
        throw err;
      }
    },
  };
}
export type IndexDocuments = ReturnType<typeof indexDocuments>;
