import type { Client } from 'pg';
import { canonicalKey } from '../core/change-event';
import { compareLatestWithRows, confirmedLsn, currentWalLsn, eventsPerTx, latestByKey, readAllEvents, readCommitEnds } from '../ingest/test-support/harness';
import { startService, stopService, type RunningService } from './support/processes';
import { eventually, kafka, pg } from './support/services';
import { ingestStreaming, witnessedTable } from './support/witnessed-table';

/** Kills inside a big transaction's streaming; one more kill comes right as the slot confirms one. */
const KILLS = 4;
const BIG_ROWS = 30_000;

interface WriterTx { xid: number; events: number; label: string }

/**
 * docs/reliability.md scenario 2 (issue 3, item 2): kill -9 ingest while it streams a large
 * transaction, repeatedly, with small transactions committing all along (also while ingest is
 * down). After every kill, with nothing running that could still confirm: every transaction whose
 * commit end LSN is at or below the slot's confirmed_flush_lsn is wholly in Kafka (the slot never
 * ran ahead of Kafka's acks). At the end: every committed transaction is in Kafka, and the latest
 * event of every key equals the row in Postgres (nothing lost). Duplicates are reported, not failed.
 * Commit end LSNs come from a witness slot (test_decoding) the test owns.
 */
describe('ingest killed with SIGKILL inside a large transaction, repeatedly', () => {
  const fixture = witnessedTable('killed');
  const { table, slot, witness, prefix, topic } = fixture;
  let db: Client;
  let writerDb: Client;
  let ingest: RunningService;
  let serviceEnv: Record<string, string>;
  const logs: string[] = [];
  /** Commit end LSN by xid, as the witness slot decoded them. */
  const commitEnds = new Map<number, bigint>();

  beforeAll(async () => {
    db = await pg();
    writerDb = await pg();
    const pipelineFile = await fixture.create(db, table.replace(/_/g, '-'), { v: { type: 'text', searchable: true } });
    serviceEnv = { PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '200', INGEST_BATCH_MAX_EVENTS: '1000', TOPIC_PARTITIONS: '3', LOG_LEVEL: 'info' };
    ingest = startService('ingest', serviceEnv);
    await ingestStreaming(db, slot, 'ingest streaming (snapshot of the empty table done)', 60_000);
  });

  afterAll(async () => {
    logs.push(ingest.output());
    const code = await stopService(ingest);
    if (code !== 0) process.stderr.write(`ingest exited ${code}:\n${logs.join('\n').slice(-4000)}\n`);
    await fixture.drop(db);
    await writerDb.end();
    await db.end();
  });



  const inKafka = async (): Promise<number> => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('never confirms past what Kafka holds, and loses no committed change', async () => {
    const committed: WriterTx[] = [];
    let nextId = 1;
    const live: number[] = [];

    /** One transaction on the writer connection; `body` returns the number of row events it causes. */
    async function transaction(label: string, body: () => Promise<number>): Promise<void> {
      await writerDb.query('BEGIN');
      const xid = Number(BigInt((await writerDb.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x) % 2n ** 32n);
      const events = await body();
      await writerDb.query('COMMIT');
      committed.push({ xid, events, label });
    }
    const rows = async (sql: string, params: unknown[]): Promise<number> => (await writerDb.query(sql, params)).rowCount ?? 0;

    // Small transactions all along: inserts, updates, deletes and primary-key changes.
    let writing = true;
    let smallOps = 0;
    const small = async (): Promise<void> => {
      const roll = smallOps++ % 10;
      await transaction('small', async () => {
        let n = 0;
        const id = nextId++;
        n += await rows(`INSERT INTO ${table} VALUES ($1, $2, 0)`, [id, `small ${id}`]);
        live.push(id);
        const pick = (): number => live[Math.floor(Math.random() * live.length)]!;
        if (roll < 6) n += await rows(`UPDATE ${table} SET v = $2, n = n + 1 WHERE id = $1`, [pick(), `updated by small ${smallOps}`]);
        else if (roll < 8) n += await rows(`DELETE FROM ${table} WHERE id = $1`, [pick()]);
        else {
          const to = nextId++;
          n += 2 * (await rows(`UPDATE ${table} SET id = $2, v = v || ' moved' WHERE id = $1`, [pick(), to]));
          live.push(to);
        }
        return n;
      });
    };
    let chain: Promise<void> = Promise.resolve();
    const serial = (f: () => Promise<void>): Promise<void> => (chain = chain.then(f));
    const writer = (async () => {
      while (writing) {
        await serial(small);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const violations: string[] = [];
    const insideKills: string[] = [];
    let atCommitKill = false;
    let kills = 0;
    for (let attempt = 0; insideKills.length < KILLS && attempt < KILLS * 3; attempt++) {
      // Let ingest catch up first, so this kill lands in this big transaction, not in the replay of an earlier one.
      const caughtUp = await currentWalLsn(db);
      await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= caughtUp ? true : undefined), 'ingest caught up', 120_000);
      const before = await inKafka();
      await serial(() => transaction('big', async () => {
        const first = nextId;
        nextId += BIG_ROWS;
        const inserted = await rows(`INSERT INTO ${table} SELECT g, 'big ' || g, 1 FROM generate_series($1::int, $2::int) g`, [first, first + BIG_ROWS - 1]);
        for (let i = first; i < first + BIG_ROWS; i += 97) live.push(i);
        const updated = await rows(`UPDATE ${table} SET n = n + 1, v = v || ' touched by big' WHERE id % 13 = 0 AND id < $1`, [first]);
        return inserted + updated;
      }));
      const big = committed[committed.length - 1]!;
      const deadline = Date.now() + 60_000;
      if (insideKills.length === 2 && !atCommitKill) {
        // Once: kill the moment the slot confirms the big transaction; the last batch must already be acked.
        await readCommitEnds(db, witness, commitEnds);
        const end = commitEnds.get(big.xid)!;
        while (((await confirmedLsn(db, slot)) ?? 0n) < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        atCommitKill = true;
      } else {
        // Kill once a share of the big transaction is in Kafka: early, middle, late.
        const share = [0.1, 0.4, 0.7, 0.9][insideKills.length % 4]!;
        while ((await inKafka()) - before < big.events * share && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      }
      logs.push(ingest.output());
      await stopService(ingest, 'SIGKILL');
      kills++;

      // Nothing can confirm now. Everything the slot confirmed must be in Kafka.
      const confirmed = (await confirmedLsn(db, slot))!;
      await readCommitEnds(db, witness, commitEnds);
      const perTx = eventsPerTx((await readAllEvents(kafka(), topic)).map((m) => m.event));
      const bigHave = perTx.get(big.xid) ?? 0;
      const bigEnd = commitEnds.get(big.xid)!;
      let checked = 0;
      for (const tx of committed) {
        const end = commitEnds.get(tx.xid);
        if (end === undefined || end > confirmed) continue;
        checked++;
        const have = perTx.get(tx.xid) ?? 0;
        if (have !== tx.events) violations.push(`kill ${kills}: ${tx.label} transaction ${tx.xid} (end ${end}) is confirmed (slot at ${confirmed}) but has ${have} of ${tx.events} events in Kafka`);
      }
      if (bigHave > 0 && bigHave < big.events) insideKills.push(`${bigHave}/${big.events}`);
      process.stdout.write(`ingest-sigkill: kill ${kills} with ${bigHave}/${big.events} events of the big transaction in Kafka; slot confirmed ${confirmed} ${confirmed < bigEnd ? '<' : '>='} its end ${bigEnd}; ${checked} confirmed transactions checked whole\n`);
      await new Promise((r) => setTimeout(r, 300)); // small transactions commit while ingest is down
      // Postgres frees the slot when it sees the killed connection close (a supervisor's restart would wait the same way).
      await eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot])).rowCount ? true : undefined), 'slot released');
      ingest = startService('ingest', serviceEnv);
    }
    writing = false;
    await writer;
    await chain;

    // Quiet: the slot confirmed past the last write (heartbeats carry it), then compare.
    const end = await currentWalLsn(db);
    await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= end ? true : undefined), 'slot confirmed past the last write', 120_000);
    await readCommitEnds(db, witness, commitEnds);
    const events = (await readAllEvents(kafka(), topic)).map((m) => m.event);
    const perTx = eventsPerTx(events);
    const incomplete = committed.filter((tx) => (perTx.get(tx.xid) ?? 0) !== tx.events).map((tx) => `${tx.label} ${tx.xid}: ${perTx.get(tx.xid) ?? 0}/${tx.events}`);
    const latest = latestByKey(events);
    const table_ = new Map((await db.query<{ id: number; v: string; n: number }>(`SELECT id, v, n FROM ${table}`)).rows.map((r) => [canonicalKey({ id: r.id }), r]));
    const { missing, stale, extra } = compareLatestWithRows(latest, table_);
    const rowEvents = events.filter((e) => e.op !== 'h').length;
    const distinct = [...perTx.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`ingest-sigkill: kills=${kills} (inside the big transaction: ${insideKills.join(', ')}) transactions=${committed.length} rows=${table_.size} events=${rowEvents} duplicates=${rowEvents - distinct} missing=${missing.length} stale=${stale.length} extra=${extra.length} incomplete=${incomplete.length}\n`);

    expect(insideKills).toHaveLength(KILLS);
    expect(atCommitKill).toBe(true);
    expect(violations).toEqual([]);
    expect({ incomplete, missing: missing.slice(0, 10), stale: stale.slice(0, 10), extra: extra.slice(0, 10) }).toEqual({ incomplete: [], missing: [], stale: [], extra: [] });
  }, 600_000);
});
