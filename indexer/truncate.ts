import type { Client } from '@elastic/elasticsearch';
import type { DeadLetter, DocumentSink } from './sink/es-document-sink';
import type { BulkOp, Origin } from './transform/to-bulk-ops';

export interface TruncateDeps {
  es: Client;
  sink: DocumentSink;
  pageSize: number;
  keepAlive: () => Promise<void>;
}

/**
 * Applies a TRUNCATE to one index: deletes every document written before the truncate's
 * transaction. This Elasticsearch build has no _delete_by_query, so ids are read with a point in
 * time + search_after and deleted by bulk with `version = commitLsn, version_type = external`:
 * a document of a later transaction has a higher version and survives (409 = stale = done), and
 * an older write arriving afterwards meets the tombstone and is refused.
 *
 * Why `external` (strictly greater) and not external_gte: every partition of the topic carries the
 * truncate and applies it on its own schedule. The common reload, `BEGIN; TRUNCATE; COPY; COMMIT`,
 * writes rows with the truncate's own version; one partition may already have written them when
 * another applies its copy of the truncate, and they must survive that. Rows the same transaction
 * wrote *before* the truncate are dropped by the partition carrying them (batch-processor.ts).
 * Each partition applies the truncate after its own earlier changes, so every older row is deleted
 * whichever partition it lives in. The refresh first makes earlier durable writes visible to the
 * point in time.
 */
export async function applyTruncate(index: string, commitLsn: string, lsn: string, origin: Origin, deps: TruncateDeps): Promise<{ deleteRequests: number; dead: DeadLetter[] }> {
  const { es, sink, pageSize, keepAlive } = deps;
  await es.indices.refresh({ index });
  const pit = await es.openPointInTime({ index, keep_alive: '2m' });
  let pitId = pit.id;
  let deleteRequests = 0;
  const dead: DeadLetter[] = [];
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const page = await es.search({
        pit: { id: pitId, keep_alive: '2m' },
        size: pageSize,
        sort: [{ _shard_doc: 'asc' }],
        _source: false,
        track_total_hits: false,
        ...(after ? { search_after: after as never } : {}),
      });
      pitId = page.pit_id ?? pitId;
      const hits = page.hits.hits;
      if (!hits.length) break;
      // Versions are not compared here: they may exceed 2^53, and Elasticsearch compares exactly.
      const ops: BulkOp[] = hits.map((h) => ({ action: 'delete', index, id: h._id!, version: commitLsn, versionType: 'external', lsn, origin }));
      dead.push(...(await sink.write(ops, keepAlive)));
      deleteRequests += ops.length;
      after = hits[hits.length - 1]!.sort;
      await keepAlive();
    }
  } finally {
    await es.closePointInTime({ id: pitId }).catch(() => undefined);
  }
  return { deleteRequests, dead };
}
