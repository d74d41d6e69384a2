import type { Client } from 'pg';
import { eventually, kafka, pg, uniqueName } from '../e2e/support/services';
import { isRetriable } from '../core/errors';
import { confirmedLsn, dropPipelineObjects, latestByKey, readAllEvents, slotReleased, snapshotState, startIngestInProcess } from './test-support/harness';

/** Real Postgres and Kafka: a slot that vanished after the pipeline ran is never replaced silently. */
describe('lost replication slot', () => {
  const table = uniqueName('lost');
  const slot = uniqueName('slot');
  const prefix = uniqueName('t');
  const env = { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '0' };
  let db: Client;
  const runs: Array<ReturnType<typeof startIngestInProcess>> = [];
  const start = (extra: Record<string, string> = {}) => {
    const r = startIngestInProcess([table], { ...env, ...extra });
    runs.push(r);
    return r;
  };

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  });

  afterAll(async () => {
    for (const r of runs) await r.ingest.close();
    await dropPipelineObjects(db, slot, [table]);
    await db.end();
  });

  it('refuses to start with a message saying changes may be lost and how to re-snapshot; INGEST_RESNAPSHOT=1 re-copies the table', async () => {
    const first = start();
    await first.ingest.start();
    await first.ingest.snapshotDone();
    await db.query(`INSERT INTO ${table} VALUES (1, 'streamed')`);
    await eventually(async () => ((await readAllEvents(kafka(), `${prefix}.public.${table}`)).length > 0 ? true : undefined), 'first event in Kafka');
    await first.ingest.close();

    expect(await slotReleased(db, slot)).toBe(true);
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
    await db.query(`INSERT INTO ${table} VALUES (2, 'written while the slot was gone')`);

    const second = start();
    const refused = await second.ingest.start().then(() => undefined, (e: unknown) => e);
    expect(refused).toBeDefined();
    expect(isRetriable(refused)).toBe(false);
    expect((refused as Error).message).toMatch(new RegExp(`replication slot ${slot} is missing although this pipeline ran before.*changes committed since ingest last confirmed a position may be lost.*INGEST_RESNAPSHOT=1`));
    expect(await confirmedLsn(db, slot)).toBeUndefined(); // no new slot was created behind our back

    const third = start({ INGEST_RESNAPSHOT: '1' });
    await third.ingest.start();
    await third.ingest.snapshotDone();
    expect(await snapshotState(db, slot)).toEqual([expect.objectContaining({ table_name: `public.${table}`, done: true, rows_done: '2' })]);
    const latest = latestByKey((await readAllEvents(kafka(), `${prefix}.public.${table}`)).map((m) => m.event));
    expect(latest.get('{"id":2}')).toMatchObject({ op: 'r', after: { id: 2, v: 'written while the slot was gone' } });
  });
});
