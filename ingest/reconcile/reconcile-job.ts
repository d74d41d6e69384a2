import { Client } from 'pg';
import type { IngestConfig } from '../../config';
import type { PipelineConfig } from '../../config/pipeline';
import type { Logger } from '../../core/logger';
import { every, type Periodic } from '../../core/periodic';
import type { IngestMetrics } from '../metrics';
import { FINDING_KINDS, reconcile, refusal, repair, type ReconcileReport } from './reconciler';
import { createElasticsearchClient } from '../../core/elasticsearch';

/**
 * The background reconciliation (INGEST_RECONCILE_INTERVAL_MS, off by default): every interval,
 * each single-table index is compared with its table, findings go to the metrics and the log, and
 * with INGEST_RECONCILE_REPAIR=1 they are repaired (a re-snapshot request this ingest then runs).
 * Runs one index at a time on a connection of its own; stopping ingest cuts a run short.
 */
export function startReconcileJob(deps: { config: Readonly<IngestConfig>; pipeline: PipelineConfig; metrics: IngestMetrics; log: Logger }): Periodic {
  const { config, metrics, log } = deps;
  const stop = new AbortController();
  const es = createElasticsearchClient(config.elasticsearch!);
  const indexes = deps.pipeline.indexes.filter((i) => {
    const why = refusal(i, config.httpTables);
    if (why) log.warn('background reconciliation skips an index', { index: i.name, why });
    return !why;
  });
  for (const i of indexes) for (const kind of FINDING_KINDS) metrics.reconcileDocuments.set({ index: i.name, kind }, 0);

  const job = every(config.reconcileIntervalMs, async () => {
    for (const index of indexes) {
      if (stop.signal.aborted) return;
      const db = new Client({ connectionString: config.databaseUrl });
      db.on('error', () => undefined); // surfaces as the failing query's error
      try {
        await db.connect();
        const report = await reconcile(db, es, index, { sample: config.reconcileSample || undefined, bucketRows: config.reconcileBucketRows, settleMs: config.reconcileSettleMs, examples: 5, signal: stop.signal }, log);
        record(report);
        if (config.reconcileRepair && report.findings.length) {
          const r = await repair(db, es, index, config.slotName, report.findings);
          metrics.reconcileRepairs.inc({ index: index.name, how: 'resnapshot' }, r.keys);
          metrics.reconcileRepairs.inc({ index: index.name, how: 'deleted' }, r.deletedDirectly);
          log.info('reconciliation repairs through a re-snapshot of the drifted keys', { index: index.name, requestId: r.requestId, keys: r.keys, deletedDirectly: r.deletedDirectly });
        }
      } catch (err) {
        if (stop.signal.aborted) return;
        metrics.reconcileRuns.inc({ index: index.name, outcome: 'failed' });
        log.warn('reconciliation of an index failed; trying again at the next interval', { index: index.name, err });
      } finally {
        await db.end().catch(() => undefined);
      }
    }
  }, (err) => log.warn('reconciliation failed', { err }));

  function record(r: ReconcileReport): void {
    for (const kind of FINDING_KINDS) metrics.reconcileDocuments.set({ index: r.index, kind }, r.counts[kind]);
    const drift = r.findings.length > 0;
    metrics.reconcileRuns.inc({ index: r.index, outcome: drift ? 'drift' : 'clean' });
    metrics.reconcileLastRun.set({ index: r.index }, Date.now() / 1000);
    metrics.reconcileSeconds.set({ index: r.index }, r.seconds);
    const line = { index: r.index, mode: r.mode, rows: r.rows, documents: r.documents, ...r.counts, seconds: r.seconds, examples: r.examples };
    if (drift) log.warn('reconciliation found documents that differ from their rows', line);
    else log.info('reconciliation: index matches its table', { ...line, examples: undefined });
  }

  return {
    async stop(): Promise<void> {
      stop.abort();
      await job.stop();
      await es.close().catch(() => undefined);
    },
  };
}
