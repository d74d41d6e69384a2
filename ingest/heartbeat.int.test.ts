import type { Client } from 'pg';
import { eventually, kafka, pg, uniqueName } from '../e2e/support/services';
import { assertChangeEvent } from '../core/change-event';
import { confirmedLsn, dropPipelineObjects, readAllEvents, startIngestInProcess } from './test-support/harness';

/** Real Postgres and Kafka: heartbeats advance a quiet slot and every partition; truncates reach every partition. */
describe('heartbeats, truncates and slot lag', () => {
  const table = uniqueName('hb');
  const slot = uniqueName('slot');
  const prefix = uniqueName('t');
  const topic = `${prefix}.public.${table}`;
  let db: Client;
  let run: ReturnType<typeof startIngestInProcess>;

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    run = startIngestInProcess([table], { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '3', INGEST_HEARTBEAT_INTERVAL_MS: '100', INGEST_SLOT_LAG_INTERVAL_MS: '100' });
    await run.ingest.start();
    await run.ingest.snapshotDone();
  });

  afterAll(async () => {
    await run.ingest.close();
    await dropPipelineObjects(db, slot, [table]);
    await db.end();
  });

  it('advances the slot of a quiet database and sends heartbeats to every partition', async () => {
    const start = (await confirmedLsn(db, slot))!;
    // No writes at all: only heartbeats can move the confirmed position.
    const advanced = await eventually(async () => {
      const now = (await confirmedLsn(db, slot))!;
      return now > start ? now : undefined;
    }, 'confirmed_flush_lsn to advance without writes');
    expect(advanced > start).toBe(true);

    const beats = await eventually(async () => {
      const msgs = (await readAllEvents(kafka(), topic)).filter((m) => m.event.op === 'h');
      return new Set(msgs.map((m) => m.partition)).size === 3 ? msgs : undefined;
    }, 'heartbeats on all 3 partitions');
    for (const m of beats) {
      expect(assertChangeEvent(m.event)).toMatchObject({ op: 'h', key: {}, source: { schema: 'public', table } });
      expect(m.event.after).toBeUndefined();
    }
    // One heartbeat transaction reaches every partition with the same commit LSN.
    const byCommit = new Map<string, Set<number>>();
    for (const m of beats) byCommit.set(m.event.commitLsn, (byCommit.get(m.event.commitLsn) ?? new Set()).add(m.partition));
    expect([...byCommit.values()].some((parts) => parts.size === 3)).toBe(true);
  });

  it('sends a truncate to every partition, after the row changes it follows', async () => {
    await db.query(`INSERT INTO ${table} SELECT g, 'x' FROM generate_series(1, 20) g`);
    await db.query(`TRUNCATE ${table}`);
    const truncs = await eventually(async () => {
      const msgs = (await readAllEvents(kafka(), topic)).filter((m) => m.event.op === 't');
      return msgs.length >= 3 ? msgs : undefined;
    }, 'truncate on every partition');
    expect(truncs.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
    expect(new Set(truncs.map((m) => m.event.commitLsn)).size).toBe(1);
  });

  it('exposes slot lag in bytes and seconds', async () => {
    const value = async (name: string) => (await run.metrics.registry.getSingleMetric(name)!.get()).values[0]?.value;
    await eventually(async () => ((await value('ingest_slot_lag_bytes')) !== undefined ? true : undefined), 'a lag sample');
    expect(await value('ingest_slot_lag_bytes')).toBeGreaterThanOrEqual(0);
    expect(await value('ingest_slot_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(run.fatal).toEqual([]);
  });
});
