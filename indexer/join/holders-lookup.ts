import type { Client } from '@elastic/elasticsearch';
import { canonicalKey } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { REFS_FIELD } from './document-query';
import type { RebuildRequest } from './rebuild-requests';
import { idsMatching } from './refs-lookup';
import type { WrittenRefs } from './written-refs';

export interface HoldersLookupDeps {
  es: Client;
  /** The refs of what this process wrote since its last refresh (written-refs.ts). */
  written: WrittenRefs;
  /** Every write to the index comes from this process (joined-rebuilder.ts). */
  exclusive: (index: string) => boolean;
}

/**
 * The documents that still hold changed rows (a row moved away or deleted), by their `_refs`:
 * what a search sees, plus what this process wrote since the last refresh it knows completed
 * (the record), which spares a refresh per lookup (docs/joined-documents.md, "`_refs` must see
 * the latest writes"). A row just inserted is in no document yet (a key deleted before is looked
 * up by its delete), so inserts skip this. `found` gets the request of a truncate, none for a row.
 */
export function holdersLookup({ es, written, exclusive }: HoldersLookupDeps) {
  /** A refresh of `index`: every write acknowledged before it is searchable after it, so the record lets go of them. */
  const refresh = async (index: string): Promise<void> => {
    const token = written.refreshing(index);
    const res = await es.indices.refresh({ index, ignore_unavailable: true });
    if (res?._shards?.failed) throw new PipelineError(`refreshing ${index} before the _refs lookup failed on ${res._shards.failed} shard(s)`, { code: 'JOIN_REFRESH_FAILED', retriable: true });
    written.refreshed(token);
  };

  return async function holders(index: string, requests: readonly RebuildRequest[], found: (id: string, r?: RebuildRequest) => void): Promise<void> {
    const changed = requests.filter((r) => r.kind === 'related' && r.op !== 'c');
    const truncates = requests.filter((r) => r.kind === 'truncate');
    if (!changed.length && !truncates.length) return;
    const refs = [...new Set(changed.map((r) => `${r.source.schema}.${r.source.table}:${canonicalKey(r.key)}`))];
    const prefixOf = (t: RebuildRequest): string => `${t.source.schema}.${t.source.table}:`;
    // Rebuilds that began reading before now may have read a row before it moved: their documents
    // are in the record once read. Those that begin later read after the change.
    await written.settled(index);
    // Taken before the search: what the record forgets from now on, a refresh made searchable first.
    const mem = written.holding(index, refs);
    for (const id of mem.ids) found(id);
    for (const t of truncates) for (const id of written.holdingPrefix(index, prefixOf(t))) found(id, t);
    // Another process may write the index too (not every partition is ours), or the record lost
    // track (start, rebalance, too big): then only a refresh shows every earlier write. A truncate
    // is rare: it refreshes.
    if (!mem.complete || !exclusive(index) || truncates.length) await refresh(index);
    for (let i = 0; i < refs.length; i += 1000) {
      for await (const ids of idsMatching(es, index, { terms: { [REFS_FIELD]: refs.slice(i, i + 1000) } })) for (const id of ids) found(id);
    }
    for (const t of truncates) {
      for await (const ids of idsMatching(es, index, { prefix: { [REFS_FIELD]: prefixOf(t) } })) for (const id of ids) found(id, t);
    }
  };
}
