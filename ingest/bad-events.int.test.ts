import type { Client } from 'pg';
import { assertChangeEvent, type ChangeEvent } from '../core/change-event';
import { kafka, pg, uniqueName } from '../e2e/support/services';
import { confirmedLsn, currentWalLsn, readAllEvents, quiesce, rowEvents, testPipeline } from './test-support/harness';
import { toChangeEvents } from './transform/to-change-events';

/**
 * docs/reliability.md "Bad events", the CDC side, against real Postgres and Kafka: each is carried
 * exactly or parked with a clear reason, and the stream goes on (no fatal error). Integers above
 * 2^53, NUMERIC NaN/±Infinity, infinity and BC timestamps: cdc-pitfalls.int.test.ts; primary-key
 * updates and tables without a key: ingest.int.test.ts and cdc-pitfalls; duplicates after a crash:
 * e2e/ingest-sigkill.e2e.test.ts. Which of these a document accepts is the indexer's part.
 */
describe('bad events on the CDC path', () => {
  let db: Client;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    db = await pg();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await db.end();
  });

  async function streaming(table: string, columns: string, env: Record<string, string> = {}) {
    await db.query(`CREATE TABLE ${table} (${columns})`);
    const p = testPipeline(db, [table], env);
    cleanups.push(() => p.cleanup());
    const run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    return { p, run };
  }

  it('carries odd column names and odd JSON exactly: __proto__, _id, dots, empty and thousands of keys, deep nesting, 40 kB keywords', async () => {
    const t = uniqueName('odd');
    const { p, run } = await streaming(t, 'id int PRIMARY KEY, "__proto__" text, "_id" text, "a.b" text, "constructor" int, "Ünï cödé" text, doc jsonb, kw text');
    const manyKeys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    const doc = JSON.stringify({ 'a.b': { 'c.d': 1 }, '': 'empty key', _id: 'x', many: manyKeys }).replace('{', '{"__proto__":{"polluted":true},');
    const deepOk = '['.repeat(62) + '1' + ']'.repeat(62);
    const tooDeep = '['.repeat(5000) + '1' + ']'.repeat(5000);
    const keyword = 'é'.repeat(20_000) + '\u{1F600}'; // 40,004 bytes of UTF-8, above Lucene's 32,766-byte term limit
    await db.query(`INSERT INTO ${t} VALUES (1, 'proto', 'my _id', 'dotted', 7, 'unicode', $1, $2)`, [doc, keyword]);
    await db.query(`INSERT INTO ${t} (id, doc) VALUES (2, $1), (3, $2)`, [deepOk, tooDeep]);
    await quiesce(db, p.slot);
    const events = await rowEvents(kafka(), p.topic(t));
    for (const e of events) assertChangeEvent(e);
    const first = events[0]!.after!;
    expect(Object.keys(first)).toEqual(['id', '__proto__', '_id', 'a.b', 'constructor', 'Ünï cödé', 'doc', 'kw']);
    expect(Object.getOwnPropertyDescriptor(first, '__proto__')?.value).toBe('proto');
    expect(first).toMatchObject({ _id: 'my _id', 'a.b': 'dotted', constructor: 7, 'Ünï cödé': 'unicode', kw: keyword });
    expect(JSON.stringify(first.doc)).toBe(JSON.stringify(JSON.parse((await db.query<{ d: string }>(`SELECT doc::text AS d FROM ${t} WHERE id = 1`)).rows[0]!.d)));
    expect(Object.keys((first.doc as { many: object }).many)).toHaveLength(5000);
    expect(Object.getOwnPropertyDescriptor(first.doc, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Nested within the contract's 64 levels (event → after → doc → 62): a JSON value; deeper: its exact
    // text (Postgres prints jsonb with spaces), so no JSON.stringify downstream overflows.
    expect(JSON.stringify(events[1]!.after!.doc)).toBe(deepOk);
    expect((events[2]!.after!.doc as string).replace(/ /g, '')).toBe(tooDeep);
    expect(run.fatal).toEqual([]);
  });

  it('leaves generated columns out of streamed and snapshot rows alike (pgoutput does not send them before Postgres 18)', async () => {
    const t = uniqueName('gen');
    await db.query(`CREATE TABLE ${t} (id int PRIMARY KEY, v text, upper_v text GENERATED ALWAYS AS (upper(v)) STORED)`);
    await db.query(`INSERT INTO ${t} (id, v) VALUES (1, 'snapshot')`);
    const p = testPipeline(db, [t]);
    cleanups.push(() => p.cleanup());
    const run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    await db.query(`UPDATE ${t} SET v = 'streamed' WHERE id = 1`);
    await quiesce(db, p.slot);
    const events = await rowEvents(kafka(), p.topic(t));
    expect(events.map((e) => [e.op, e.after])).toEqual([['r', { id: 1, v: 'snapshot' }], ['u', { id: 1, v: 'streamed' }]]);
    expect(run.fatal).toEqual([]);
  });

  it('parks a row above the topic limit in the dead-letter topic with its reason, and keeps streaming; big batches are split to fit', async () => {
    const t = uniqueName('huge');
    // 64 kB per message: a 1,000-event flush of 3 kB rows would be far above it in one batch.
    const { p, run } = await streaming(t, 'id int PRIMARY KEY, body text', { INGEST_BATCH_MAX_EVENTS: '1000' });
    const admin = kafka().admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: p.topic(t), configEntries: [{ name: 'max.message.bytes', value: '65536' }] }] });
    await admin.disconnect();
    // The publisher read the old limit at connect; a restart (or a failed send) re-reads it.
    await run.ingest.close();
    const again = p.start();
    await again.ingest.start();

    await db.query(`INSERT INTO ${t} VALUES (1, 'before')`);
    await db.query(`INSERT INTO ${t} VALUES (2, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000) g))`); // 128 kB
    await db.query(`INSERT INTO ${t} SELECT g, repeat('x', 3000) FROM generate_series(3, 1002) g`);
    await db.query(`UPDATE ${t} SET body = 'after' WHERE id = 1`);
    await quiesce(db, p.slot);

    const events = await rowEvents(kafka(), p.topic(t));
    expect(events.filter((e) => e.key.id === 2)).toEqual([]);
    expect(events).toHaveLength(1002);
    expect(events[events.length - 1]).toMatchObject({ op: 'u', key: { id: 1 }, after: { body: 'after' } });
    const dead = (await readAllEvents(kafka(), `${p.prefix}.dead-letters`)).map((m) => m.event as unknown as Record<string, string>);
    expect(dead).toEqual([expect.objectContaining({ id: '2', topic: p.topic(t), partition: -1, errorType: 'event_too_large', reason: expect.stringMatching(/the event is 1\d{5} bytes, above the 65536 bytes topic .* accepts/) })]);
    const payload = JSON.parse(dead[0]!.payload!) as Partial<ChangeEvent> & { columnBytes: Record<string, number> };
    expect(payload).toMatchObject({ op: 'c', key: { id: 2 }, columnBytes: { id: 1, body: 128_002 } });
    expect(payload.after).toBeUndefined();
    const errors = (await again.metrics.registry.getSingleMetric('ingest_errors_total')!.get()).values;
    expect(errors).toEqual([expect.objectContaining({ labels: { kind: 'event_too_large' }, value: 1 })]);
    expect(again.fatal).toEqual([]);
  });

  it('validates what it produces: an event our decoding got wrong is parked with the contract\'s problems, counted, and the stream goes on', async () => {
    const t = uniqueName('contract');
    await db.query(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
    const p = testPipeline(db, [t]);
    cleanups.push(() => p.cleanup());
    // A decoding bug through the decoder seam (Postgres and Kafka stay real): row 2's LSN printed
    // in Postgres' 0/16B3748 form instead of the contract's decimal.
    const run = p.start({}, {
      decode: (change, lsn, tx) => toChangeEvents(change, lsn, tx).map((e) => (e.key.id === 2 ? { ...e, lsn: '0/16B3748' } : e)),
    });
    await run.ingest.start();
    await run.ingest.snapshotDone();
    await db.query(`INSERT INTO ${t} VALUES (1, 'one')`);
    await db.query(`INSERT INTO ${t} VALUES (2, 'two')`);
    await db.query(`INSERT INTO ${t} VALUES (3, 'three')`);
    const walAfterWrites = await currentWalLsn(db);
    await quiesce(db, p.slot);

    expect((await rowEvents(kafka(), p.topic(t))).map((e) => e.key.id)).toEqual([1, 3]);
    const dead = (await readAllEvents(kafka(), `${p.prefix}.dead-letters`)).map((m) => m.event as unknown as Record<string, string>);
    expect(dead).toEqual([expect.objectContaining({ id: '2', lsn: '0/16B3748', topic: p.topic(t), partition: -1, errorType: 'event_invalid', reason: expect.stringMatching(/breaks the change-event contract.*\/lsn must match pattern/) })]);
    expect(JSON.parse(dead[0]!.payload!)).toMatchObject({ op: 'c', key: { id: 2 }, columnBytes: { id: 1, v: 5 } });
    const errors = (await run.metrics.registry.getSingleMetric('ingest_errors_total')!.get()).values;
    expect(errors).toEqual([expect.objectContaining({ labels: { kind: 'event_invalid' }, value: 1 })]);
    const parked = (await run.metrics.registry.getSingleMetric('ingest_dead_letters_total')!.get()).values;
    expect(parked).toEqual([expect.objectContaining({ labels: { table: `public.${t}`, reason: 'event_invalid' }, value: 1 })]);
    // Not a stop: the slot is confirmed past the faulty transaction.
    expect((await confirmedLsn(db, p.slot))!).toBeGreaterThanOrEqual(walAfterWrites);
    expect(run.fatal).toEqual([]);
  });
});
