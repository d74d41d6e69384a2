import type { ClientBase } from 'pg';

/** A transaction another backend waits for, as pg_stat_activity shows it. */
export interface BlockingTransaction {
  pid: number;
  xid: string | null;
  ageSec: number | null;
  state: string | null;
  application: string | null;
  query: string | null;
}

/**
 * What backend `waiterPid` waits for: the backends pg_blocking_pids names (creating a logical slot
 * waits on each running transaction's xid lock in turn, so that one shows there), and every other
 * transaction holding an xid since before `since` (the slot waits for those next). Read on a
 * connection of its own: the waiting one is busy.
 */
export async function blockingTransactions(db: ClientBase, waiterPid: number, since: Date, limit = 5): Promise<BlockingTransaction[]> {
  const { rows } = await db.query<{ pid: number; xid: string | null; age_s: number | null; state: string | null; application_name: string | null; query: string | null }>(
    `SELECT pid, backend_xid::text AS xid, extract(epoch FROM clock_timestamp() - xact_start)::int AS age_s,
            state, application_name, left(query, 200) AS query
       FROM pg_stat_activity
      WHERE pid <> $1 AND pid <> pg_backend_pid()
        AND (pid = ANY (pg_blocking_pids($1)) OR (backend_xid IS NOT NULL AND xact_start < $2))
      ORDER BY pid = ANY (pg_blocking_pids($1)) DESC, xact_start
      LIMIT $3`,
    [waiterPid, since, limit],
  );
  return rows.map((r) => ({ pid: r.pid, xid: r.xid, ageSec: r.age_s, state: r.state, application: r.application_name || null, query: r.query }));
}

/** `pid 123 (idle in transaction for 32 s: UPDATE …)`, for a log line a person reads. */
export function describeBlocker(b: BlockingTransaction): string {
  const age = b.ageSec === null ? '' : ` for ${b.ageSec} s`;
  const query = b.query ? `: ${b.query.replace(/\s+/g, ' ').slice(0, 80)}` : '';
  return `pid ${b.pid} (${b.state ?? 'unknown state'}${age}${query})`;
}
