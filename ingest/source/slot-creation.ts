import { Client, type ClientBase } from 'pg';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { sleep } from '../../core/retry';
import { blockingTransactions, describeBlocker } from './blocking-transactions';
import { createSlot } from './pg-setup';

export interface SlotCreationOptions {
  /** For the second connection that reads pg_stat_activity while `db` waits. */
  connectionString: string;
  log: Logger;
  /** First report after this long, ms. Default: 1000. */
  firstReportMs?: number;
  /** Then again every, ms. Default: 5000. */
  reportEveryMs?: number;
}

/**
 * Creates the logical slot like createSlot, saying what it waits for. Postgres creates a logical
 * slot only once no transaction that holds an xid is running (decoding needs a consistent start),
 * and waits silently for as long as one stays open: a forgotten `BEGIN` in a psql session stalls
 * ingest's first start with nothing in its log. This names the blocking backends (pid, age, state,
 * query) and keeps naming them until the slot exists.
 */
export async function createSlotReporting(db: ClientBase, slot: string, opts: SlotCreationOptions): Promise<string | null> {
  const { rows } = await db.query<{ pid: number; at: Date }>('SELECT pg_backend_pid() AS pid, clock_timestamp() AS at');
  const { pid, at } = rows[0]!;
  const started = Date.now();
  let settled = false;
  const creating = createSlot(db, slot).finally(() => (settled = true));
  const finished = creating.then(() => undefined, () => undefined);
  await Promise.race([finished, sleep(opts.firstReportMs ?? 1_000)]);
  if (settled) return creating;

  // Only a slow creation costs the second connection.
  const watcher = new Client({ connectionString: opts.connectionString });
  watcher.on('error', () => undefined); // surfaces as the failing query's error
  try {
    await watcher.connect();
    while (!settled) {
      const blockers = await blockingTransactions(watcher, pid, at);
      const waitedSec = Math.round((Date.now() - started) / 1000);
      const who = blockers.length ? blockers.map(describeBlocker).join(', ') : 'transactions that just ended';
      opts.log.warn(`creating replication slot ${slot} waits for open transactions to end: ${who}. Commit or roll them back (or end them with pg_terminate_backend(pid)); ingest starts streaming once they end`, { slot, waitedSec, waiterPid: pid, blockers });
      await Promise.race([finished, sleep(opts.reportEveryMs ?? 5_000)]);
    }
  } catch (err) {
    if (!settled) opts.log.warn('cannot read what creating the replication slot waits for; still waiting for it', { slot, err: errorMessage(err) });
  } finally {
    await watcher.end().catch(() => undefined);
  }
  return creating;
}
