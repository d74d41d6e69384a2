import type { ClientBase } from 'pg';
import type { Logger } from '../../core/logger';
import { sleep } from '../../core/retry';

/**
 * Waits until every transaction that was running when this is called has ended.
 *
 * Why: pgoutput decides whether a change is published with the catalog as it was at the change's
 * own WAL position. A write made by a transaction that was already open when its table joined the
 * publication is decoded as "not published", even though the transaction commits later — and a
 * snapshot chunk read before that commit cannot see it either. Waiting for those transactions
 * before the first chunk makes their writes visible to the snapshot, so nothing is lost
 * (the same wait CREATE INDEX CONCURRENTLY does, for the same reason).
 */
export async function awaitOlderTransactions(db: ClientBase, log: Logger, opts: { pollMs?: number; reportEveryMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const pollMs = opts.pollMs ?? 100;
  const reportEveryMs = opts.reportEveryMs ?? 10_000;
  const { rows } = await db.query<{ xmax: string; at: Date }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax, clock_timestamp() AS at');
  const horizon = rows[0]!.xmax;
  const since = rows[0]!.at;
  const started = Date.now();
  let reported = started;
  while (!opts.signal?.aborted) {
    const done = await db.query<{ ok: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS ok', [horizon]);
    if (done.rows[0]?.ok) return;
    if (Date.now() - reported >= reportEveryMs) {
      reported = Date.now();
      const blockers = await db.query<{ pid: number; xact_start: Date | null; state: string | null; query: string | null }>(
        `SELECT pid, xact_start, state, left(query, 120) AS query FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND xact_start <= $1 ORDER BY xact_start LIMIT 5`,
        [since],
      ).catch(() => ({ rows: [] }));
      log.warn('snapshot waits for transactions that were open when the tables joined the publication; commit or end them to let it start', {
        waitedSec: Math.round((Date.now() - started) / 1000),
        blockers: blockers.rows.map((b) => ({ pid: b.pid, since: b.xact_start, state: b.state, query: b.query })),
      });
    }
    await sleep(pollMs, opts.signal);
  }
}
