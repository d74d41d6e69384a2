import { Kafka, logLevel } from 'kafkajs';
import type { Client } from 'pg';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { compareLatestWithRows, confirmedLsn, currentWalLsn, eventsPerTx, latestByKey, readAllEvents, readCommitEnds } from '../ingest/test-support/harness';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { startPrivateKafka, type PrivateKafka } from './support/private-kafka';
import { freePort, startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { es, eventually, pg, uniqueName } from './support/services';
import { ingestStreaming, witnessedTable } from './support/witnessed-table';

/** How long the broker stays down; KAFKA_OUTAGE_S=300 for the "minutes" of the scenario. */
const OUTAGE_MS = Number(process.env.KAFKA_OUTAGE_S ?? 60) * 1000;
/** SIGTERM (clean broker shutdown, the default) or SIGKILL. */
const STOP_SIGNAL = (process.env.KAFKA_OUTAGE_SIGNAL ?? 'SIGTERM') as NodeJS.Signals;

interface WriterTx { xid: number; events: number }

/**
 * docs/reliability.md scenario 3: Kafka stopped for a while under continuous writes. A private broker
 * (the shared one is never stopped) is stopped and restarted on the same ports and data folder,
 * while the real ingest process streams a table of the shared Postgres into it. While it is down:
 * the slot's confirmed_flush_lsn does not move, every transaction it covers is wholly in what the
 * broker had on disk when it stopped (read from its files), and ingest's slot-lag metrics grow.
 * Ingest rides the outage out without exiting, and afterwards every committed row is in Kafka as
 * its final state (missing = stale = extra = 0; duplicates reported). The indexer, consuming from
 * the same broker, rides it out too and the index ends equal to the table. Commit end LSNs come
 * from a test_decoding slot the test owns.
 */
describe('Kafka stopped for a while under continuous writes', () => {
  const fixture = witnessedTable('outage');
  const { table, slot, witness, prefix, topic } = fixture;
  let db: Client;
  let writerDb: Client;
  let broker: PrivateKafka | undefined;
  let ingest: RunningService | undefined;
  let indexer: RunningService | undefined;
  const index = uniqueName('outage');
  const elastic = es();
  let metricsUrl: string;
  const commitEnds = new Map<number, bigint>();

  beforeAll(async () => {
    db = await pg();
    writerDb = await pg();
    broker = await startPrivateKafka();
    const pipelineFile = await fixture.create(db, index, { v: { type: 'text', searchable: true }, n: { type: 'integer' } });
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const common = { PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: prefix, KAFKA_BROKERS: broker.brokers, TOPIC_PARTITIONS: '3', LOG_LEVEL: 'info' };
    ingest = startService('ingest', { ...common, SLOT_NAME: slot, PUBLICATION_NAME: slot, INGEST_METRICS_PORT: String(metricsPort), INGEST_SLOT_LAG_INTERVAL_MS: '500', INGEST_HEARTBEAT_INTERVAL_MS: '200' });
    indexer = startService('indexer', { ...common, INDEXER_GROUP_ID: uniqueName('g') });
    await ingestStreaming(db, slot, 'ingest streaming', 90_000);
    // The outage hits a running indexer (a slow start once overlapped it; e2e/kafka-late covers starting without Kafka).
    await waitForOutput(indexer, 'indexer consuming');
  });

  afterAll(async () => {
    for (const s of [ingest, indexer]) {
      if (!s) continue;
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-4000)}\n`);
    }
    await dropSearchIndex(elastic, index);
    await elastic.close();
    await broker?.destroy();
    await fixture.drop(db);
    await writerDb.end();
    await db.end();
  });


  async function metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(metricsUrl)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }


  it('acknowledges nothing while Kafka is down, shows the lag, and catches up fully without exiting', async () => {
    const k = broker!;
    let writing = true;
    let writer: Promise<void> = Promise.resolve();
    try {
      await scenario();
    } finally {
      writing = false;
      await writer.catch(() => undefined);
    }

    async function scenario(): Promise<void> {
    const committed: WriterTx[] = [];
    const live: number[] = [];
    let nextId = 1;
    let n = 0;
    writer = (async () => {
      while (writing) {
        const i = n++;
        await writerDb.query('BEGIN');
        const xid = Number(BigInt((await writerDb.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x) % 2n ** 32n);
        const id = nextId++;
        let events = (await writerDb.query(`INSERT INTO ${table} VALUES ($1, $2, 0)`, [id, `row ${id}`])).rowCount ?? 0;
        live.push(id);
        const pick = live[Math.floor(Math.random() * live.length)]!;
        if (i % 5 === 4) events += (await writerDb.query(`DELETE FROM ${table} WHERE id = $1`, [pick])).rowCount ?? 0;
        else events += (await writerDb.query(`UPDATE ${table} SET v = $2, n = n + 1 WHERE id = $1`, [pick, `update ${i}`])).rowCount ?? 0;
        await writerDb.query('COMMIT');
        committed.push({ xid, events });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Flowing first: the slot follows the writes.
    const flowing = await currentWalLsn(db);
    await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= flowing ? true : undefined), 'ingest confirming while Kafka is up', 60_000);

    await k.stop(STOP_SIGNAL);
    const stoppedAt = Date.now();
    // An acknowledgement Kafka sent just before it went away may still reach the slot: let it land.
    await new Promise((r) => setTimeout(r, 2000));
    const confirmedAtStop = (await confirmedLsn(db, slot))!;
    const onDisk = eventsPerTx((await k.recordsOnDisk(topic)).map((v) => JSON.parse(v) as ChangeEvent));
    const lagAtStop = { bytes: (await metric('ingest_slot_lag_bytes'))!, seconds: (await metric('ingest_slot_lag_seconds'))! };

    const confirmedDuring = new Set<string>();
    let ingestExitedDuringOutage: number | null | undefined;
    let indexerExitedDuringOutage: number | null | undefined;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      confirmedDuring.add(String((await confirmedLsn(db, slot))!));
      if (ingest!.child.exitCode !== null && ingestExitedDuringOutage === undefined) ingestExitedDuringOutage = ingest!.child.exitCode;
      if (indexer!.child.exitCode !== null && indexerExitedDuringOutage === undefined) indexerExitedDuringOutage = indexer!.child.exitCode;
    }
    if (indexerExitedDuringOutage !== undefined) throw new Error(`the indexer exited (${indexerExitedDuringOutage}) while Kafka was down:\n${indexer!.output().slice(-3000)}`);
    if (ingestExitedDuringOutage !== undefined) throw new Error(`ingest exited (${ingestExitedDuringOutage}) while Kafka was down:\n${ingest!.output().slice(-3000)}`);
    // The slot-lag monitor samples every 500 ms: wait for a sample taken after these writes.
    const walBefore = await currentWalLsn(db);
    const lagEnd = await eventually(async () => {
      const bytes = await metric('ingest_slot_lag_bytes');
      return bytes !== undefined && BigInt(Math.round(bytes)) >= walBefore - confirmedAtStop ? { bytes, seconds: (await metric('ingest_slot_lag_seconds'))! } : undefined;
    }, 'the slot lag metric covering the writes of the outage', 30_000);

    // Every transaction the slot confirmed was wholly in Kafka when it went away.
    await readCommitEnds(db, witness, commitEnds);
    const confirmedNotInKafka = committed.filter((tx) => {
      const end = commitEnds.get(tx.xid);
      return end !== undefined && end <= confirmedAtStop && (onDisk.get(tx.xid) ?? 0) !== tx.events;
    }).map((tx) => `${tx.xid}: ${onDisk.get(tx.xid) ?? 0}/${tx.events}`);
    const writtenDuringOutage = committed.filter((tx) => (commitEnds.get(tx.xid) ?? 0n) > confirmedAtStop).length;

    await k.start();
    const restartedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // writes go on across the restart
    writing = false;
    await writer;

    const end = await currentWalLsn(db);
    await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= end ? true : undefined), 'slot confirmed past the last write after the restart', 120_000);
    const caughtUpMs = Date.now() - restartedAt;
    await readCommitEnds(db, witness, commitEnds);
    const kafka = new Kafka({ clientId: 'tests', brokers: [k.brokers], logLevel: logLevel.NOTHING });
    const events = (await readAllEvents(kafka, topic)).map((m) => m.event);
    const perTx = eventsPerTx(events);
    const incomplete = committed.filter((tx) => (perTx.get(tx.xid) ?? 0) !== tx.events).map((tx) => `${tx.xid}: ${perTx.get(tx.xid) ?? 0}/${tx.events}`);
    const latest = latestByKey(events);
    const rows = new Map((await db.query<{ id: number; v: string; n: number }>(`SELECT id, v, n FROM ${table}`)).rows.map((r) => [canonicalKey({ id: r.id }), r]));
    const { missing, stale, extra } = compareLatestWithRows(latest, rows);
    const rowEvents = events.filter((e) => e.op !== 'h').length;
    const distinct = [...perTx.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(`kafka-outage: outage ${Math.round(OUTAGE_MS / 1000)} s (${STOP_SIGNAL}); transactions=${committed.length} (${writtenDuringOutage} committed while Kafka was down) rows=${rows.size} events=${rowEvents} duplicates=${rowEvents - distinct} missing=${missing.length} stale=${stale.length} extra=${extra.length} incomplete=${incomplete.length}; slot lag ${lagAtStop.bytes} B / ${lagAtStop.seconds} s at the stop, ${lagEnd.bytes} B / ${lagEnd.seconds} s at the end of the outage; caught up ${caughtUpMs} ms after the restart\n`);

    expect(ingest!.child.exitCode).toBeNull();
    expect(indexer!.child.exitCode).toBeNull();
    expect([...confirmedDuring]).toEqual([String(confirmedAtStop)]);
    expect(confirmedNotInKafka).toEqual([]);
    expect(writtenDuringOutage).toBeGreaterThan(0);
    expect(lagEnd.bytes).toBeGreaterThan(lagAtStop.bytes);
    expect(lagEnd.seconds).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 - 5);
    expect({ incomplete: incomplete.slice(0, 10), missing: missing.slice(0, 10), stale: stale.slice(0, 10), extra: extra.slice(0, 10) }).toEqual({ incomplete: [], missing: [], stale: [], extra: [] });

    // The index catches up too: exactly the table's rows, each with its final content.
    const expected = new Map([...rows.values()].map((r) => [String(r.id), JSON.stringify({ v: r.v, n: r.n })]));
    const differs = (docs: Map<string, { source: string }>): string[] => [
      ...[...expected].filter(([id, src]) => docs.get(id)?.source !== src).map(([id]) => `missing or stale ${id}`),
      ...[...docs.keys()].filter((id) => !expected.has(id)).map((id) => `extra ${id}`),
    ];
    let last: string[] = [];
    const indexed = await eventually(async () => {
      last = differs(await allDocs(elastic, index));
      return last.length === 0 ? true : undefined;
    }, 'the index equal to the table', 120_000).catch(() => false);
    process.stdout.write(`kafka-outage: index caught up: ${indexed}; ${last.length} documents differ${last.length ? ` (${last.slice(0, 5).join(', ')})` : ''}\n`);
    expect(last.slice(0, 10)).toEqual([]);
    }
  }, 180_000 + 2 * OUTAGE_MS);
});
