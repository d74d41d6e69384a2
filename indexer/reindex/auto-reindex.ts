import os from 'node:os';
import type { IndexSpec } from '../../config/pipeline';
import { errorMessage, isRetriable } from '../../core/errors';
import { sleep } from '../../core/retry';
import { liveMappingHash, mappingHash } from '../mappings';
import { reindex, type ReindexDeps } from './reindex';
import { acquireLease, type Lease } from './reindex-lease';

export interface AutoReindexDeps extends Omit<ReindexDeps, 'signal' | 'onProgress'> {
  /** Who holds the lease, for the other processes' logs. Default: indexer@host:pid. */
  owner?: string;
  /** Pause before looking again at an index another process is reindexing, or after a retriable failure, ms. Default 30000. */
  retryMs?: number;
  leaseTtlMs?: number;
}

/** The lease that serialises every reindex of one index: the live indexers' and the CLI's. */
export const reindexLeaseName = (index: string): string => `reindex:${index}`;

export const defaultLeaseOwner = (who: string): string => `${who}@${os.hostname()}:${process.pid}`;

/**
 * Issue 4 item 5, "on a mapping change": when the pipeline config maps an index differently from
 * the generation behind its alias, the indexer builds the next generation in the background
 * (the same replay-and-swap as `npm run reindex`) while it keeps writing the live one. One process
 * of the group does it, under a lease; the others look again later, in case it died midway.
 */
export function startAutoReindex(deps: AutoReindexDeps): { done: Promise<void>; close(): Promise<void> } {
  const { es, log } = deps;
  const owner = deps.owner ?? defaultLeaseOwner('indexer');
  const retryMs = deps.retryMs ?? 30_000;
  const stop = new AbortController();
  const changed = async (spec: IndexSpec): Promise<boolean> => (await liveMappingHash(es, spec.name)) !== mappingHash(spec);

  const reindexUnderLease = async (spec: IndexSpec, lease: Lease): Promise<void> => {
    let lastLog = 0;
    try {
      const r = await reindex({
        ...deps, signal: AbortSignal.any([stop.signal, lease.signal]),
        onProgress: (phase, done, total) => {
          if (Date.now() - lastLog < 10_000) return;
          lastLog = Date.now();
          log.info('reindex after a mapping change: progress', { index: spec.name, phase, done, total });
        },
      }, spec.name, { ifChanged: true });
      if (!r.skipped) log.info('reindex after a mapping change: alias swapped', { ...r, rollback: `npm run reindex -- ${spec.name} --rollback` });
    } finally {
      await lease.release().catch(() => undefined);
    }
  };

  /** One pass over the indexes still to do; answers those left for a later pass. */
  const pass = async (pending: IndexSpec[]): Promise<IndexSpec[]> => {
    const left: IndexSpec[] = [];
    for (const spec of pending) {
      if (stop.signal.aborted) return [];
      if (!(await changed(spec))) continue; // another process swapped it meanwhile
      const got = await acquireLease(es, reindexLeaseName(spec.name), owner, { ttlMs: deps.leaseTtlMs, log, indexReplication: deps.config.elasticsearch.internalIndex });
      if ('heldBy' in got) {
        log.info('the config maps this index differently; another process is reindexing it', { index: spec.name, holder: got.heldBy.owner });
        left.push(spec);
        continue;
      }
      log.warn('the config maps this index differently from the live generation; reindexing in the background (searches and writes go on)', { index: spec.name });
      try {
        await reindexUnderLease(spec, got.lease);
      } catch (err) {
        if (stop.signal.aborted) return [];
        if (isRetriable(err)) {
          log.warn('reindex after a mapping change failed; will try again', { index: spec.name, err: errorMessage(err), retryInMs: retryMs });
          left.push(spec);
        } else {
          log.error(`reindex after a mapping change failed: ${errorMessage(err)}. The alias still points to the previous generation; fix the cause and run npm run reindex -- ${spec.name}`, { index: spec.name });
        }
      }
    }
    return left;
  };

  const done = (async () => {
    let pending = [...deps.pipeline.indexes];
    while (pending.length > 0 && !stop.signal.aborted) {
      try {
        pending = await pass(pending);
      } catch (err) {
        // Elasticsearch away for a moment: the next pass looks again.
        log.warn('checking indexes for mapping changes failed; will try again', { err: errorMessage(err), retryInMs: retryMs });
      }
      if (pending.length > 0) await sleep(retryMs, stop.signal);
    }
  })();

  return {
    done,
    async close(): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

