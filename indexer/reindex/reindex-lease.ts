import type { Client } from '@elastic/elasticsearch';
import { DEFAULT_INDEX_REPLICATION, replicationSettings, type IndexReplication } from '../../core/elasticsearch';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

/**
 * A lease in Elasticsearch that lets one process at a time reindex an index: several indexer
 * processes of one group start with the same changed config, and the CLI may run meanwhile. Two
 * replays would build two generations and race for the alias. The lease expires, so a process
 * killed mid-reindex does not block the next one for longer than its TTL; the holder renews it
 * with compare-and-set (seq_no/primary_term), so a process that lost it notices instead of
 * overwriting the new holder.
 */
export const LEASE_INDEX = 'search_pipeline_leases';

interface LeaseDoc { owner: string; expiresAt: number }

export interface Lease {
  readonly owner: string;
  /** True once a renewal found another holder (or no lease): stop the work as soon as possible. */
  readonly lost: boolean;
  /** Aborted when the lease is lost: hand it to the work the lease guards. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface LeaseHolder { owner: string; expiresAt: number }

async function ensureLeaseIndex(es: Client, replication: IndexReplication): Promise<void> {
  if (await es.indices.exists({ index: LEASE_INDEX })) return;
  await es.indices.create({
    index: LEASE_INDEX,
    settings: replicationSettings(replication),
    mappings: { dynamic: false, properties: { owner: { type: 'keyword' }, expiresAt: { type: 'long' } } },
  }, { ignore: [400] }); // 400 resource_already_exists: another process created it first
}

const statusOf = (err: unknown): number | undefined => (err as { meta?: { statusCode?: number } }).meta?.statusCode;

/** Takes the lease `name` for `owner`, or answers who holds it. */
export async function acquireLease(
  es: Client, name: string, owner: string, opts: { ttlMs?: number; log?: Logger; now?: () => number; indexReplication?: IndexReplication } = {},
): Promise<{ lease: Lease } | { heldBy: LeaseHolder }> {
  const ttlMs = opts.ttlMs ?? 60_000;
  const now = opts.now ?? Date.now;
  await ensureLeaseIndex(es, opts.indexReplication ?? DEFAULT_INDEX_REPLICATION);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await es.create<LeaseDoc>({ index: LEASE_INDEX, id: name, document: { owner, expiresAt: now() + ttlMs }, refresh: false });
      return { lease: holdLease(es, name, owner, { seqNo: res._seq_no, primaryTerm: res._primary_term }, ttlMs, now, opts.log) };
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    const cur = await es.get<LeaseDoc>({ index: LEASE_INDEX, id: name }, { ignore: [404] });
    if (!cur.found || !cur._source) continue;
    if (cur._source.expiresAt > now()) return { heldBy: cur._source };
    // Expired: remove exactly that version, so two takers of a stale lease cannot both win.
    await es.delete({ index: LEASE_INDEX, id: name, if_seq_no: cur._seq_no, if_primary_term: cur._primary_term }, { ignore: [404, 409] });
  }
  const cur = await es.get<LeaseDoc>({ index: LEASE_INDEX, id: name }, { ignore: [404] });
  return { heldBy: cur._source ?? { owner: 'unknown', expiresAt: now() + ttlMs } };
}

function holdLease(es: Client, name: string, owner: string, start: { seqNo?: number; primaryTerm?: number }, ttlMs: number, now: () => number, log?: Logger): Lease {
  let version = start;
  const lostSignal = new AbortController();
  let released = false;
  const renew = async (): Promise<void> => {
    try {
      const res = await es.index<LeaseDoc>({ index: LEASE_INDEX, id: name, document: { owner, expiresAt: now() + ttlMs }, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm });
      version = { seqNo: res._seq_no, primaryTerm: res._primary_term };
    } catch (err) {
      if (statusOf(err) === 409) {
        lostSignal.abort();
        log?.error('reindex lease lost to another process; stopping this reindex', { lease: name, owner });
      } else {
        // Elasticsearch briefly away: the lease still runs for the rest of its TTL; try again next tick.
        log?.warn('renewing the reindex lease failed; will retry', { lease: name, err: errorMessage(err) });
      }
    }
  };
  const timer = setInterval(() => void renew(), Math.max(1_000, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    owner,
    get lost() { return lostSignal.signal.aborted; },
    signal: lostSignal.signal,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (lostSignal.signal.aborted) return;
      await es.delete({ index: LEASE_INDEX, id: name, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm }, { ignore: [404, 409] });
    },
  };
}
