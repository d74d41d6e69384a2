import type { Client } from 'pg';
import { kafka, pg, uniqueName } from '../e2e/support/services';
import { confirmedLsn, rowEvents, testPipeline } from './test-support/harness';

/**
 * The ack trap (pg-change-source.ts): pg-logical-replication's acknowledge(lsn) sends lsn + 1,
 * and Postgres skips on restart every transaction whose commit record starts before the confirmed
 * position. Two transactions whose commit records are adjacent in WAL (B's change was written
 * before A's, B commits right after A): A confirmed, ingest stopped, B committed, restart — B's
 * commit record starts exactly at A's commit end, so an ack one byte too far loses it.
 */
describe('adjacent commits across a restart', () => {
  let db: Client;
  beforeAll(async () => {
    db = await pg();
  });
  afterAll(async () => {
    await db.end();
  });

  it('streams the transaction committed right after the confirmed one, exactly once', async () => {
    const table = uniqueName('adj');
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    const p = testPipeline(db, [table], { INGEST_HEARTBEAT_INTERVAL_MS: '0', INGEST_FLUSH_INTERVAL_MS: '10' });
    let other: Client | undefined;
    try {
      const first = p.start();
      await first.ingest.start();
      await first.ingest.snapshotDone();
      other = await pg();
      await other.query('BEGIN');
      await other.query(`INSERT INTO ${table} VALUES (2, 'b')`); // B's change, before A's
      await db.query(`INSERT INTO ${table} VALUES (1, 'a')`); // A, committed
      // A is confirmed once the slot is at or past its commit record (ingest confirms commit end − 1:
      // the position just before the next transaction's first record). Not the server's current
      // WAL position: other tests' writes move that past A's end, and nothing here confirms them.
      const deadline = Date.now() + 60_000;
      let aCommit: bigint | undefined;
      while (aCommit === undefined || ((await confirmedLsn(db, p.slot)) ?? 0n) < aCommit) {
        if (Date.now() > deadline) throw new Error(`first transaction never confirmed (its commit record at ${aCommit ?? 'not in Kafka yet'}, slot at ${await confirmedLsn(db, p.slot)})`);
        aCommit ??= ((c) => (c ? BigInt(c) : undefined))((await rowEvents(kafka(), p.topic(table))).find((e) => e.key.id === 1)?.commitLsn);
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.ingest.close();
      await other.query('COMMIT'); // B's commit record: the next WAL record after A's commit
      await other.end();
      other = undefined;
      await db.query(`INSERT INTO ${table} VALUES (3, 'c')`);

      const second = p.start();
      await second.ingest.start();
      const want = [1, 2, 3]; // WAL commit order
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
    } finally {
      // An open transaction left behind would hold up every slot creation in the cluster.
      await other?.end().catch(() => undefined);
      await p.cleanup();
    }
  });
});
