import type { Client } from '@elastic/elasticsearch';

/**
 * The ids of the documents of `index` that match `query` (a terms or prefix query on `_refs`),
 * page by page under a point in time, so a parent shared by a million documents is read in
 * bounded memory. An index that does not exist yet holds nothing.
 */
export async function* idsMatching(es: Client, index: string, query: Record<string, unknown>, pageSize = 1000): AsyncGenerator<string[]> {
  // Most changes touch a few documents: one plain search answers them without opening a point in time.
  // Filter context (no scores) and no hit count: only the ids are wanted.
  const filter = { bool: { filter: [query] } };
  const first = await es.search({ index, size: pageSize, _source: false, track_total_hits: false, query: filter }, { ignore: [404] });
  const hits = first.hits?.hits ?? [];
  if (hits.length < pageSize) {
    if (hits.length) yield hits.map((h) => h._id!);
    return;
  }
  let pit: string;
  try {
    pit = (await es.openPointInTime({ index, keep_alive: '1m' })).id;
  } catch (err) {
    if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return;
    throw err;
  }
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const res = await es.search({ pit: { id: pit, keep_alive: '1m' }, size: pageSize, _source: false, track_total_hits: false, query: filter, sort: [{ _shard_doc: 'asc' }], ...(after ? { search_after: after as never } : {}) });
      const hits = res.hits.hits;
      if (!hits.length) return;
      yield hits.map((h) => h._id!);
      if (hits.length < pageSize) return;
      after = hits[hits.length - 1]!.sort as unknown[];
    }
  } finally {
    await es.closePointInTime({ id: pit }).catch(() => undefined);
  }
}
