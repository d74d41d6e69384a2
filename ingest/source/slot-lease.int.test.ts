import type { Client } from 'pg';
import { env, eventually, pg, uniqueName } from '../../e2e/support/services';
import { createLogger } from '../../core/logger';
import type { PipelineError } from '../../core/errors';
import { acquireSlotLease, type LeaseOptions, type SlotLease } from './slot-lease';

/**
 * Against the real Postgres: the slot lease is a session advisory lock on a replication
 * connection. One holder per slot name; a standby gets it once the holder's session ends, however
 * it ends (release, or the backend terminated as when the process is killed or cut off).
 */
describe('the slot lease', () => {
  let db: Client;
  const slot = uniqueName('lease');
  const held: SlotLease[] = [];
  const stop = new AbortController();
  const log = createLogger('test', 'error');

  beforeAll(async () => {
    db = await pg();
  });

  afterAll(async () => {
    stop.abort();
    for (const l of held) await l.release();
    await db.end();
  });

  function lease(slotName: string, extra: Partial<LeaseOptions> = {}): { promise: Promise<SlotLease | undefined>; standby: Array<number | undefined>; lost: PipelineError[] } {
    const standby: Array<number | undefined> = [];
    const lost: PipelineError[] = [];
    const promise = acquireSlotLease({ connectionString: env('DATABASE_URL'), slot: slotName, pollMs: 100, log, signal: stop.signal, onStandby: (h) => standby.push(h?.pid), onLost: (e) => lost.push(e), ...extra }).then((l) => {
      if (l) held.push(l);
      return l;
    });
    return { promise, standby, lost };
  }
  const walsenders = async (pid: number): Promise<number> => (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_type = 'walsender'`, [pid])).rowCount ?? 0;

  it('has one holder; the standby names it, and takes over when it is released or its backend is terminated', async () => {
    const first = lease(slot);
    const a = (await first.promise)!;
    expect(await walsenders(a.pid)).toBe(1); // the lock lives on a replication connection, as the stream does

    const second = lease(slot);
    await eventually(async () => (second.standby.length ? true : undefined), 'the second to be standby');
    expect(second.standby).toEqual([a.pid]);
    let secondGot: SlotLease | undefined;
    void second.promise.then((l) => (secondGot = l));
    await new Promise((r) => setTimeout(r, 500)); // five polls: still standby
    expect(secondGot).toBeUndefined();

    await a.release();
    const b = (await second.promise)!;
    expect(b.pid).not.toBe(a.pid);
    expect(first.lost).toEqual([]); // a release is not a loss

    // A third waits; terminating the holder's backend (what Postgres does when the process dies) hands over.
    const third = lease(slot);
    await eventually(async () => (third.standby.length ? true : undefined), 'the third to be standby');
    await db.query('SELECT pg_terminate_backend($1)', [b.pid]);
    await eventually(async () => (second.lost.length ? true : undefined), 'the terminated holder to learn it lost the lease');
    expect(second.lost[0]!.code).toBe('REPLICATION_FAILED');
    const c = (await third.promise)!;
    expect(c.pid).not.toBe(b.pid);
  });

  it('is per slot name: another slot is not blocked', async () => {
    const other = lease(uniqueName('lease_other'));
    expect(await other.promise).toBeDefined();
    expect(other.standby).toEqual([]);
  });

  it('stops waiting when aborted, leaving no connection behind', async () => {
    const name = uniqueName('lease_abort');
    const holder = (await lease(name).promise)!;
    const ac = new AbortController();
    const waiting = lease(name, { signal: ac.signal });
    await eventually(async () => (waiting.standby.length ? true : undefined), 'standby');
    ac.abort();
    expect(await waiting.promise).toBeUndefined();
    await eventually(async () => ((await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [`search-pipeline-ingest ${name}`])).rowCount === 1 ? true : undefined), 'only the holder connected');
    await holder.release();
  });
});
