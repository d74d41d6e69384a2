import type { Client } from 'pg';
import { kafka, pg, uniqueName } from '../e2e/support/services';
import { confirmedLsn, rowEvents, testPipeline } from './test-support/harness';

/**
 * The ack trap (pg-change-source.ts): pg-logical-replication's acknowledge(lsn) sends lsn + 1,
 * and Postgres skips on restart every transaction whose commit record starts before the confirmed
 * position. Two transactions whose commit records are adjacent in WAL (B's change was written
 * before A's, B commits right after A): A confirmed, ingest stopped, B committed, restart — B's
 * commit record starts exactly at A's commit end, so an ack one byte too far loses it.
 *
 * The adjacency is checked in the WAL itself (pg_walinspect), not assumed: any record between the
 * two commits (ingest storing a table's columns when its first change arrives, another test's
 * write) moves B's commit past the trap and the case would pass with the bug. Such an attempt is
 * made again, on a new table (at most 10 times: other suites write to the same cluster).
 */
describe('adjacent commits across a restart', () => {
  let db: Client;
  beforeAll(async () => {
    db = await pg();
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  });
  afterAll(async () => {
    await db.end();
  });

  const eventOf = async (topic: string, id: number): Promise<bigint | undefined> => {
    const c = (await rowEvents(kafka(), topic)).find((e) => e.key.id === id)?.commitLsn;
    return c === undefined ? undefined : BigInt(c);
  };
  /** Waits until ingest confirmed the transaction whose row `id` it sent (the slot at or past its commit record). */
  const confirmed = async (slot: string, topic: string, id: number): Promise<bigint> => {
    const deadline = Date.now() + 60_000;
    let commit: bigint | undefined;
    while (commit === undefined || ((await confirmedLsn(db, slot)) ?? 0n) < commit) {
      if (Date.now() > deadline) throw new Error(`row ${id}'s transaction never confirmed (its commit record at ${commit ?? 'not in Kafka yet'}, slot at ${await confirmedLsn(db, slot)})`);
      commit ??= await eventOf(topic, id);
      await new Promise((r) => setTimeout(r, 50));
    }
    return commit;
  };
  /**
   * The WAL record right after the commit record at `commit`: [its type, the transaction it is of].
   * Read up to the flushed end of WAL: pg_walinspect refuses an end past it ("cannot accept future
   * end LSN"), and the insert position runs ahead of it while other backends write. B's commit is
   * flushed by the time its COMMIT returns (synchronous_commit is on).
   */
  const recordAfter = async (commit: bigint): Promise<[string, string] | undefined> => {
    const lsn = `${(commit >> 32n).toString(16)}/${(commit & 0xffffffffn).toString(16)}`;
    const { rows } = await db.query<{ record_type: string; xid: string }>(`SELECT record_type, xid::text FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn()) LIMIT 2`, [lsn]);
    return rows[1] && [rows[1].record_type, rows[1].xid];
  };

  it('streams the transaction committed right after the confirmed one, exactly once', async () => {
    for (let attempt = 1; ; attempt++) {
      const table = uniqueName('adj');
      await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
      const p = testPipeline(db, [table], { INGEST_HEARTBEAT_INTERVAL_MS: '0', INGEST_FLUSH_INTERVAL_MS: '10' });
      let other: Client | undefined;
      try {
        const first = p.start();
        await first.ingest.start();
        await first.ingest.snapshotDone();
        // A first change, so ingest has stored the table's columns before A (a write of its own).
        await db.query(`INSERT INTO ${table} VALUES (0, 'warm-up')`);
        await confirmed(p.slot, p.topic(table), 0);
        other = await pg();
        await other.query('BEGIN');
        await other.query(`INSERT INTO ${table} VALUES (2, 'b')`); // B's change, before A's
        const bXid = (await other.query<{ x: string }>('SELECT pg_current_xact_id()::xid::text AS x')).rows[0]!.x;
        await db.query(`INSERT INTO ${table} VALUES (1, 'a')`); // A, committed
        const aCommit = await confirmed(p.slot, p.topic(table), 1);
        await first.ingest.close();
        await other.query('COMMIT'); // B's commit record: the next WAL record after A's commit
        await other.end();
        other = undefined;
        const next = await recordAfter(aCommit);
        if (next?.[0] !== 'COMMIT' || next[1] !== bXid) {
          if (attempt >= 10) throw new Error(`could not make B's commit the WAL record right after A's in 10 attempts (last: ${JSON.stringify(next)} after A's commit)`);
          continue;
        }
        await db.query(`INSERT INTO ${table} VALUES (3, 'c')`);

        const second = p.start();
        await second.ingest.start();
        const want = [0, 1, 2, 3]; // WAL commit order
        let ids: number[] = [];
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          ids = (await rowEvents(kafka(), p.topic(table))).map((e) => e.key.id as number);
          if (ids.length >= want.length) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(ids).toEqual(want);
        expect(first.fatal).toEqual([]);
        expect(second.fatal).toEqual([]);
        return;
      } finally {
        // An open transaction left behind would hold up every slot creation in the cluster.
        await other?.end().catch(() => undefined);
        await p.cleanup();
      }
    }
  });
});
