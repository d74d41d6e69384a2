import { Client } from 'pg';
import { errorMessage, PipelineError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { sleep } from '../../core/retry';

/**
 * Exactly one active ingest per slot (docs/scaling.md). The active one holds a session advisory
 * lock on the very connection that streams the slot: a replication connection (`replication=database`)
 * also runs SQL before START_REPLICATION, so the lock is taken there and the stream then starts on
 * the same session. The lock therefore lives exactly as long as the stream: when the process dies
 * (kill -9, OOM) or its connection is cut, Postgres ends that backend, which frees the lock and
 * the slot together, and no other session can hold it meanwhile. A standby polls for the lock
 * and does nothing else (no slot, publication, topic or snapshot work) until it holds it.
 *
 * Confirmations travel on that same connection, so only the lock holder can move the slot; a process
 * whose connection is gone cannot confirm anything, even if it has not noticed yet.
 */
export interface SlotLease {
  /** The replication connection that holds the lock; the stream must start on it. */
  readonly client: Client;
  /** Backend pid of the lease's session (pg_stat_replication / pg_locks show it). */
  readonly pid: number;
  /** Ends the session, which frees the lock (and the slot, if it streams); safe to call twice. */
  release(): Promise<void>;
}

export interface LeaseOptions {
  connectionString: string;
  slot: string;
  /** How often a standby asks for the lock, ms. */
  pollMs: number;
  log: Logger;
  /** Ends the wait (the process stops while standby). */
  signal: AbortSignal;
  /** Called once, when the lock is held by another session. */
  onStandby?: (holder: LockHolder | undefined) => void;
  /** The held session failed or closed without release(): this process is no longer the active one. */
  onLost: (err: PipelineError) => void;
}

export interface LockHolder { pid: number; applicationName: string; clientAddr: string | null; backendStart: string }

/** The lock key: one per slot name (slots are per database, as advisory locks are). */
export function leaseKeySql(client: Pick<Client, 'escapeLiteral'>, slot: string): string {
  // A walsender accepts only the simple query protocol: no bind parameters, so a quoted literal.
  return `hashtextextended(${client.escapeLiteral(`search-pipeline ingest slot ${slot}`)}, 0)`;
}

/** Waits until this process holds the slot's lock; undefined when `signal` aborted first. */
export async function acquireSlotLease(opts: LeaseOptions): Promise<SlotLease | undefined> {
  let reportedStandby = false;
  while (!opts.signal.aborted) {
    const client = new Client({ connectionString: opts.connectionString, replication: 'database', application_name: `search-pipeline-ingest ${opts.slot}` } as ConstructorParameters<typeof Client>[0]);
    let failed: unknown;
    client.on('error', (err) => (failed ??= err));
    try {
      await client.connect();
      const key = leaseKeySql(client, opts.slot);
      while (!opts.signal.aborted && failed === undefined) {
        const { rows } = await client.query<{ got: boolean; pid: number }>(`SELECT pg_try_advisory_lock(${key}) AS got, pg_backend_pid() AS pid`);
        if (rows[0]!.got) return held(client, rows[0]!.pid, opts);
        if (!reportedStandby) {
          reportedStandby = true;
          const holder = await lockHolder(client, key).catch(() => undefined);
          opts.log.info('standby: another ingest holds this slot; taking over when it stops', { slot: opts.slot, activePid: holder?.pid, activeApplication: holder?.applicationName, activeClient: holder?.clientAddr });
          opts.onStandby?.(holder);
        }
        await sleep(opts.pollMs, opts.signal).catch(() => undefined);
      }
    } catch (err) {
      failed ??= err;
    }
    await client.end().catch(() => undefined);
    if (failed !== undefined && !opts.signal.aborted) {
      opts.log.warn('standby: cannot ask Postgres for the slot lock; trying again', { slot: opts.slot, err: errorMessage(failed) });
      await sleep(Math.max(opts.pollMs, 1000), opts.signal).catch(() => undefined);
    }
  }
  return undefined;
}

function held(client: Client, pid: number, opts: LeaseOptions): SlotLease {
  let released = false;
  let ended = false;
  let lostReported = false;
  const lost = (why: string, cause?: unknown): void => {
    if (released || lostReported) return;
    lostReported = true;
    opts.onLost(new PipelineError(`the replication connection holding slot ${opts.slot} ${why}; this ingest is no longer the active one (a standby may take over)`, { code: 'REPLICATION_FAILED', retriable: true, cause, context: { slot: opts.slot, pid } }));
  };
  client.removeAllListeners('error');
  client.on('error', (err) => lost(`failed: ${err.message}`, err));
  client.on('end', () => {
    ended = true;
    lost('closed');
  });
  return {
    client,
    pid,
    async release(): Promise<void> {
      released = true;
      if (!ended) await client.end().catch(() => undefined);
    },
  };
}

async function lockHolder(client: Client, key: string): Promise<LockHolder | undefined> {
  const { rows } = await client.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: Date }>(
    `SELECT l.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND ((l.classid::bigint << 32) | l.objid::bigint) = ${key}`,
  );
  const r = rows[0];
  return r ? { pid: r.pid, applicationName: r.application_name, clientAddr: r.client_addr, backendStart: r.backend_start.toISOString() } : undefined;
}
