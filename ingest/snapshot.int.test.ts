import type { Client } from 'pg';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { eventually, kafka, pg, uniqueName } from '../e2e/support/services';
import { confirmedLsn, currentWalLsn, dropPipelineObjects, latestByKey, readAllEvents, snapshotState, startIngestInProcess } from './test-support/harness';

/** Real Postgres and Kafka: the watermark snapshot copies existing rows through the ordered stream. */
describe('initial snapshot', () => {
  let db: Client;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    db = await pg();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await db.end();
  });

  function pipeline(tables: string[], env: Record<string, string> = {}, json?: string) {
    const slot = uniqueName('slot');
    const prefix = uniqueName('t');
    const runs: Array<ReturnType<typeof startIngestInProcess>> = [];
    cleanups.push(async () => {
      for (const r of runs) await r.ingest.close();
      await dropPipelineObjects(db, slot, tables);
    });
    return {
      slot,
      topic: (table: string) => `${prefix}.public.${table}`,
      start(extra: Record<string, string> = {}) {
        const r = startIngestInProcess(tables, { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '50', ...env, ...extra }, json ? { pipeline: json } : {});
        runs.push(r);
        return r;
      },
    };
  }

  /** Everything committed so far is in Kafka: heartbeats carry the slot past the current WAL position. */
  async function quiesce(slot: string): Promise<void> {
    const target = await currentWalLsn(db);
    await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= target ? true : undefined), 'slot confirmed past the writes');
  }

  /** The index content implied by the topic (latest event per key by commit LSN) equals the table. */
  async function expectTopicMatchesTable(topic: string, table: string): Promise<ChangeEvent[]> {
    const events = (await readAllEvents(kafka(), topic)).map((m) => m.event);
    const latest = latestByKey(events);
    const live = new Map([...latest].filter(([, e]) => e.op !== 'd').map(([k, e]) => [k, e.after]));
    const rows = (await db.query<{ id: number; v: string | null; n: number }>(`SELECT id, v, n FROM ${table} ORDER BY id`)).rows;
    expect(live.size).toBe(rows.length);
    for (const r of rows) expect(live.get(canonicalKey({ id: r.id }))).toEqual(r);
    return events;
  }

  it('emits every existing row once as an r event in chunks, and records the table as done', async () => {
    const table = uniqueName('snap');
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'row ' || g, g * 2 FROM generate_series(1, 1234) g`);
    const p = pipeline([table], { INGEST_SNAPSHOT_CHUNK_ROWS: '100' });
    const run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    await quiesce(p.slot);
    const events = await expectTopicMatchesTable(p.topic(table), table);
    const reads = events.filter((e) => e.op === 'r');
    expect(reads).toHaveLength(1234);
    expect(reads[0]!.after).toEqual({ id: reads[0]!.key.id, v: `row ${reads[0]!.key.id}`, n: (reads[0]!.key.id as number) * 2 });
    // 13 chunks, each versioned at its own high watermark's commit.
    expect(new Set(reads.map((e) => e.commitLsn)).size).toBe(13);
    expect(await snapshotState(db, p.slot)).toEqual([{ table_name: `public.${table}`, rows_done: '1234', rows_total: '1234', done: true }]);
    const gauge = async (name: string) => (await run.metrics.registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await gauge('ingest_snapshot_rows_done')).toBe(1234);
    expect(await gauge('ingest_snapshot_rows_total')).toBe(1234);
    expect(await gauge('ingest_snapshot_rows_per_second')).toBeGreaterThan(0);
    expect(await gauge('ingest_snapshot_eta_seconds')).toBe(0);
    expect(run.fatal).toEqual([]);
  });

  it('copies only root tables: a table only joined documents read is marked done unread, and its later changes stream', async () => {
    const [parent, child] = [uniqueName('root'), uniqueName('rel')];
    await db.query(`CREATE TABLE ${parent} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`CREATE TABLE ${child} (id int PRIMARY KEY, parent_id int, v text)`);
    await db.query(`INSERT INTO ${parent} SELECT g, 'p', g FROM generate_series(1, 30) g`);
    await db.query(`INSERT INTO ${child} SELECT g, 1 + g % 30, 'c' FROM generate_series(1, 90) g`);
    const json = JSON.stringify({ version: 1, indexes: { [parent]: { table: `public.${parent}`, fields: { v: { type: 'keyword', searchable: true } }, relations: { kids: { table: `public.${child}`, kind: 'one-to-many', on: { id: 'parent_id' }, fields: { v: { type: 'keyword' } } } } } } });
    const p = pipeline([parent, child], {}, json);
    const run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    await db.query(`UPDATE ${child} SET v = 'changed' WHERE id = 7`);
    await quiesce(p.slot);
    expect((await readAllEvents(kafka(), p.topic(parent))).filter((m) => m.event.op === 'r')).toHaveLength(30);
    const childEvents = (await readAllEvents(kafka(), p.topic(child))).map((m) => m.event).filter((e) => e.op !== 'h');
    expect(childEvents.map((e) => [e.op, e.key])).toEqual([['u', { id: 7 }]]);
    expect(await snapshotState(db, p.slot)).toEqual([
      { table_name: `public.${child}`, rows_done: '0', rows_total: '0', done: true },
      { table_name: `public.${parent}`, rows_done: '30', rows_total: '30', done: true },
    ].sort((a, b) => (a.table_name < b.table_name ? -1 : 1)));
    expect(run.fatal).toEqual([]);
  });

  it('lets changes made during the snapshot win: inserts, updates and deletes racing the chunks', async () => {
    const table = uniqueName('race');
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'initial', 0 FROM generate_series(1, 3000) g`);
    const p = pipeline([table], { INGEST_SNAPSHOT_CHUNK_ROWS: '50' });
    const run = p.start();
    const writer = await pg();
    let writing = true;
    let writes = 0;
    const load = (async () => {
      while (writing) {
        const id = 1 + Math.floor(Math.random() * 3500);
        const op = writes % 10;
        if (op < 7) await writer.query(`UPDATE ${table} SET v = 'updated', n = n + 1 WHERE id = $1`, [id]);
        else if (op < 9) await writer.query(`INSERT INTO ${table} VALUES ($1, 'inserted', 100) ON CONFLICT (id) DO UPDATE SET v = 'upserted', n = ${table}.n + 1`, [id]);
        else await writer.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
        writes++;
      }
    })();
    try {
      await run.ingest.start();
      await run.ingest.snapshotDone();
    } finally {
      writing = false;
      await load;
      await writer.end();
    }
    expect(writes).toBeGreaterThan(0);
    await quiesce(p.slot);
    const events = await expectTopicMatchesTable(p.topic(table), table);
    expect(events.filter((e) => e.op === 'r').length).toBeGreaterThan(0);
    expect(run.fatal).toEqual([]);
  });

  it('waits for a transaction that was open when a table joined the publication, so its write is not lost (docs/reliability.md #16)', async () => {
    const first = uniqueName('first');
    const added = uniqueName('added');
    await db.query(`CREATE TABLE ${first} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`CREATE TABLE ${added} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`INSERT INTO ${added} SELECT g, 'before', 0 FROM generate_series(1, 500) g`);
    // The pipeline ran with `first` only; `added` joins the config later and is backfilled while streaming.
    const p = pipeline([first, added], { INGEST_SNAPSHOT_CHUNK_ROWS: '100' });
    const firstRun = startIngestInProcess([first], { SLOT_NAME: p.slot, PUBLICATION_NAME: p.slot, TOPIC_PREFIX: p.topic(first).split('.')[0]!, INGEST_HEARTBEAT_INTERVAL_MS: '0' });
    await firstRun.ingest.start();
    await firstRun.ingest.snapshotDone();
    await firstRun.ingest.close();

    const open = await pg();
    try {
      // Written before ALTER PUBLICATION: pgoutput will not publish this change, so only the
      // snapshot can carry it, and only if it reads after the commit.
      await open.query('BEGIN');
      await open.query(`UPDATE ${added} SET v = 'committed after the table joined', n = 1 WHERE id = 250`);
      const run = p.start();
      await run.ingest.start();
      let snapshotFinished = false;
      const done = run.ingest.snapshotDone().then(() => (snapshotFinished = true));
      await new Promise((r) => setTimeout(r, 1_000));
      expect(snapshotFinished).toBe(false);
      expect((await snapshotState(db, p.slot)).find((s) => s.table_name === `public.${added}`)).toMatchObject({ rows_done: '0', done: false });
      await open.query('COMMIT');
      await done;
      await quiesce(p.slot);
      const events = await expectTopicMatchesTable(p.topic(added), added);
      const read = events.find((e) => e.op === 'r' && e.key.id === 250)!;
      expect(read.after).toMatchObject({ v: 'committed after the table joined', n: 1 });
      expect((await snapshotState(db, p.slot)).map((s) => [s.table_name, s.done])).toEqual(expect.arrayContaining([[`public.${added}`, true], [`public.${first}`, true]]));
      expect(run.fatal).toEqual([]);
    } finally {
      await open.query('ROLLBACK').catch(() => undefined);
      await open.end();
    }
  });
});
