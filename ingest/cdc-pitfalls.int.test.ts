import type { Client } from 'pg';
import { assertChangeEvent, type ChangeEvent } from '../core/change-event';
import { kafka, pg, uniqueName } from '../e2e/support/services';
import { quiesce, rowEvents, testPipeline } from './test-support/harness';

/**
 * The CDC pitfalls of docs/architecture.md, each against real Postgres through ingest into Kafka, read back
 * from the topic. (Key updates, the refusal of a table without a key, heartbeats, truncate to
 * every partition and the lost slot are in ingest, heartbeat and slot-lost .int.test.ts.)
 */
describe('CDC pitfalls', () => {
  let db: Client;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    db = await pg();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await db.end();
  });

  /** Starts a pipeline over the tables (created by `ddl`) and returns a reader of each table's row events. */
  async function streaming(ddl: Record<string, string>, env: Record<string, string> = {}) {
    const names = Object.keys(ddl);
    for (const [t, cols] of Object.entries(ddl)) await db.query(`CREATE TABLE ${t} (${cols})`);
    const p = testPipeline(db, names, env);
    cleanups.push(() => p.cleanup());
    const run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    return {
      p,
      run,
      /** Every row event of `table` committed so far, in stream order, each valid against the contract. */
      async events(table: string): Promise<ChangeEvent[]> {
        await quiesce(db, p.slot);
        const events = await rowEvents(kafka(), p.topic(table));
        for (const e of events) assertChangeEvent(e);
        return events;
      },
    };
  }

  // Incompressible, well above the 2 kB TOAST threshold: stored out of line.
  const BIG = "(SELECT string_agg(md5(g::text || 'seed'), '') FROM generate_series(1, 2000) g)";

  describe('unchanged TOAST values', () => {
    it('default replica identity: an update of another column lists the big column as unchanged and never sends a placeholder', async () => {
      const t = uniqueName('toast');
      const s = await streaming({ [t]: 'id int PRIMARY KEY, n int, big text, doc jsonb' });
      const big = (await db.query<{ v: string }>(`SELECT ${BIG} AS v`)).rows[0]!.v;
      await db.query(`INSERT INTO ${t} VALUES (1, 0, $1, jsonb_build_object('text', $1::text))`, [big]);
      await db.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
      await db.query(`UPDATE ${t} SET n = 2, big = 'small now' WHERE id = 1`);
      await db.query(`UPDATE ${t} SET n = 3, big = NULL WHERE id = 1`);
      const [insert, untouched, changed, nulled, ...rest] = await s.events(t);
      expect(rest).toEqual([]);
      expect(insert!.after).toEqual({ id: 1, n: 0, big, doc: { text: big } });
      // pgoutput sent 'u' (unchanged toast) for both out-of-line columns: absent from after, listed.
      expect(untouched).toMatchObject({ op: 'u', after: { id: 1, n: 1 }, unchanged: ['big', 'doc'] });
      expect(Object.keys(untouched!.after!)).toEqual(['id', 'n']);
      expect(changed).toMatchObject({ op: 'u', after: { id: 1, n: 2, big: 'small now' }, unchanged: ['doc'] });
      // A real NULL is a value, not "unchanged".
      expect(nulled!.after).toMatchObject({ n: 3, big: null });
      expect(nulled!.unchanged).toEqual(['doc']);
      expect(s.run.fatal).toEqual([]);
    });

    it('REPLICA IDENTITY FULL: the old row fills the unchanged values, and the key stays the primary key', async () => {
      const t = uniqueName('toastfull');
      const s = await streaming({ [t]: 'id int PRIMARY KEY, n int, big text' });
      await db.query(`ALTER TABLE ${t} REPLICA IDENTITY FULL`);
      const big = (await db.query<{ v: string }>(`SELECT ${BIG} AS v`)).rows[0]!.v;
      await db.query(`INSERT INTO ${t} VALUES (1, 0, $1)`, [big]);
      await db.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
      await db.query(`UPDATE ${t} SET id = 2 WHERE id = 1`);
      await db.query(`DELETE FROM ${t} WHERE id = 2`);
      const events = await s.events(t);
      expect(events.map((e) => [e.op, e.key])).toEqual([['c', { id: 1 }], ['u', { id: 1 }], ['d', { id: 1 }], ['u', { id: 2 }], ['d', { id: 2 }]]);
      expect(events[1]!.after).toEqual({ id: 1, n: 1, big });
      expect(events[1]!.unchanged).toBeUndefined();
      expect(events[3]!.after).toEqual({ id: 2, n: 1, big });
      expect(s.run.fatal).toEqual([]);
    });
  });

  describe('DDL mid-stream', () => {
    it('follows added, dropped, renamed and retyped columns, also inside one transaction with the DML', async () => {
      const t = uniqueName('ddl');
      const s = await streaming({ [t]: 'id int PRIMARY KEY, a int, b text' });
      await db.query(`INSERT INTO ${t} VALUES (1, 1, 'x')`);
      await db.query(`ALTER TABLE ${t} ADD COLUMN c text NOT NULL DEFAULT 'dflt'`);
      await db.query(`UPDATE ${t} SET a = 2 WHERE id = 1`);
      await db.query(`ALTER TABLE ${t} DROP COLUMN b`);
      await db.query(`UPDATE ${t} SET a = 3 WHERE id = 1`);
      await db.query(`ALTER TABLE ${t} RENAME COLUMN a TO a2`);
      await db.query(`UPDATE ${t} SET a2 = 4 WHERE id = 1`);
      await db.query(`ALTER TABLE ${t} ALTER COLUMN a2 TYPE text USING 'four:' || a2`);
      await db.query(`UPDATE ${t} SET c = 'five' WHERE id = 1`);
      await db.query('BEGIN');
      await db.query(`INSERT INTO ${t} (id, a2) VALUES (2, 'before')`);
      await db.query(`ALTER TABLE ${t} ADD COLUMN d numeric`);
      await db.query(`INSERT INTO ${t} (id, a2, d) VALUES (3, 'after', 1.50)`);
      await db.query('COMMIT');
      const after = (await s.events(t)).map((e) => e.after);
      expect(after).toEqual([
        { id: 1, a: 1, b: 'x' },
        { id: 1, a: 2, b: 'x', c: 'dflt' },
        { id: 1, a: 3, c: 'dflt' },
        { id: 1, a2: 4, c: 'dflt' },
        { id: 1, a2: 'four:4', c: 'five' },
        { id: 2, a2: 'before', c: 'dflt' },
        { id: 3, a2: 'after', c: 'dflt', d: '1.50' },
      ]);
      expect(s.run.fatal).toEqual([]);
    });

    it('decodes changes written while ingest was down with the schema they were written under', async () => {
      const t = uniqueName('ddldown');
      const s = await streaming({ [t]: 'id int PRIMARY KEY, a int' });
      await db.query(`INSERT INTO ${t} VALUES (1, 1)`);
      await quiesce(db, s.p.slot);
      await s.run.ingest.close();
      await db.query(`INSERT INTO ${t} VALUES (2, 2)`);
      await db.query(`ALTER TABLE ${t} ADD COLUMN f text, ALTER COLUMN a TYPE bigint`);
      await db.query(`INSERT INTO ${t} VALUES (3, 9223372036854775807, 'new')`);
      await db.query(`ALTER TABLE ${t} RENAME COLUMN a TO a_renamed`);
      await db.query(`UPDATE ${t} SET f = 'renamed' WHERE id = 2`);
      const again = s.p.start();
      await again.ingest.start();
      const after = (await s.events(t)).map((e) => e.after);
      expect(after).toEqual([
        { id: 1, a: 1 },
        { id: 2, a: 2 },
        { id: 3, a: '9223372036854775807', f: 'new' },
        { id: 2, a_renamed: '2', f: 'renamed' },
      ]);
      expect(again.fatal).toEqual([]);
    });
  });

  it('TRUNCATE of several tables in one transaction is ordered against the rows written before and after it', async () => {
    const a = uniqueName('trunca');
    const b = uniqueName('truncb');
    const s = await streaming({ [a]: 'id int PRIMARY KEY', [b]: 'id int PRIMARY KEY' }, { TOPIC_PARTITIONS: '1' });
    await db.query(`INSERT INTO ${a} VALUES (1), (2)`);
    await db.query(`INSERT INTO ${b} VALUES (1)`);
    await db.query('BEGIN');
    await db.query(`INSERT INTO ${a} VALUES (3)`);
    await db.query(`TRUNCATE ${a}, ${b} RESTART IDENTITY`);
    await db.query(`INSERT INTO ${a} VALUES (4)`);
    await db.query('COMMIT');
    expect((await s.events(a)).map((e) => [e.op, e.key.id])).toEqual([['c', 1], ['c', 2], ['c', 3], ['t', undefined], ['c', 4]]);
    const eb = await s.events(b);
    expect(eb.map((e) => e.op)).toEqual(['c', 't']);
    expect(s.run.fatal).toEqual([]);
  });

  describe('tables without a primary key', () => {
    it('accepts a REPLICA IDENTITY USING INDEX table and keys its events by that unique index', async () => {
      const t = uniqueName('ident');
      await db.query(`CREATE TABLE ${t} (code text NOT NULL, v text)`);
      await db.query(`CREATE UNIQUE INDEX ${t}_code ON ${t} (code)`);
      await db.query(`ALTER TABLE ${t} REPLICA IDENTITY USING INDEX ${t}_code`);
      await db.query(`INSERT INTO ${t} VALUES ('a', 'before the pipeline')`);
      const p = testPipeline(db, [t]);
      cleanups.push(() => p.cleanup());
      const run = p.start();
      await run.ingest.start();
      await run.ingest.snapshotDone();
      await db.query(`UPDATE ${t} SET v = 'streamed' WHERE code = 'a'`);
      await db.query(`UPDATE ${t} SET code = 'b' WHERE code = 'a'`);
      await quiesce(db, p.slot);
      const events = await rowEvents(kafka(), p.topic(t));
      expect(events.map((e) => [e.op, e.key])).toEqual([['r', { code: 'a' }], ['u', { code: 'a' }], ['d', { code: 'a' }], ['u', { code: 'b' }]]);
      expect(run.fatal).toEqual([]);
    });

    it('refuses REPLICA IDENTITY FULL without a key: equal rows could not be told apart', async () => {
      const t = uniqueName('fullnokey');
      await db.query(`CREATE TABLE ${t} (v text)`);
      await db.query(`ALTER TABLE ${t} REPLICA IDENTITY FULL`);
      const p = testPipeline(db, [t]);
      cleanups.push(() => p.cleanup());
      await expect(p.start().ingest.start()).rejects.toThrow(new RegExp(`table public.${t} has no primary key.*REPLICA IDENTITY FULL.*Add a primary key`));
    });
  });

  it('keeps bigint, NUMERIC, floats and numbers inside jsonb exact', async () => {
    const t = uniqueName('num');
    const s = await streaming({ [t]: 'id bigint PRIMARY KEY, i8 bigint, n numeric, n2 numeric(40, 20), f8 float8, f4 real, arr bigint[], j jsonb, js json' });
    const digits = '9'.repeat(500) + '.' + '1'.repeat(300);
    await db.query(`INSERT INTO ${t} VALUES (-9223372036854775808, 9007199254740993, $1, '12345678901234567890.12345678901234567890', 0.1, 1.5, '{9223372036854775807,1}', $2, $3)`, [
      digits,
      '{"big": 12345678901234567890123, "exp": 1e400, "small": 1.5, "neg": -9007199254740993, "safe": 9007199254740991, "s": "12345678901234567890123", "nested": [{"x": 0.30000000000000004444}]}',
      '{"big": 9223372036854775807, "dup": 1, "dup": 2, "e": 1e400, "tiny": 5e-324}',
    ]);
    await db.query(`INSERT INTO ${t} (id, n, f8, f4) VALUES (1, 'NaN', 'NaN', '-Infinity'), (2, 'Infinity', 'Infinity', '1e-45'), (3, '-Infinity', '-0', 3.4e38)`);
    const events = await s.events(t);
    expect(events.map((e) => e.key.id)).toEqual(['-9223372036854775808', '1', '2', '3']);
    expect(events[0]!.after).toEqual({
      id: '-9223372036854775808',
      i8: '9007199254740993',
      n: digits,
      n2: '12345678901234567890.12345678901234567890',
      f8: 0.1,
      f4: 1.5,
      arr: '{9223372036854775807,1}',
      // Numbers a JS number cannot hold exactly travel as their exact decimal text, like bigint.
      // jsonb prints 1e400 in full; json keeps the text as written.
      j: { big: '12345678901234567890123', exp: `1${'0'.repeat(400)}`, small: 1.5, neg: '-9007199254740993', safe: 9007199254740991, s: '12345678901234567890123', nested: [{ x: '0.30000000000000004444' }] },
      js: { big: '9223372036854775807', dup: 2, e: '1e400', tiny: 5e-324 },
    });
    expect(events.slice(1).map((e) => [e.after!.n, e.after!.f8, e.after!.f4])).toEqual([['NaN', 'NaN', '-Infinity'], ['Infinity', 'Infinity', 1e-45], ['-Infinity', 0, 3.4e38]]); // JSON has no -0
    expect(s.run.fatal).toEqual([]);
  });

  it('keeps infinity, -infinity, BC and far-future timestamps and dates as Postgres prints them', async () => {
    const t = uniqueName('time');
    const s = await streaming({ [t]: 'id int PRIMARY KEY, tz timestamptz, ts timestamp, d date, tm time, iv interval' });
    await db.query(`INSERT INTO ${t} VALUES
      (1, 'infinity', 'infinity', 'infinity', '24:00', '1 year 2 mons'),
      (2, '-infinity', '-infinity', '-infinity', '00:00:00.000001', '-178956970 years -8 mons'),
      (3, '0044-03-15 12:00:00.123456+00 BC', '4713-01-01 00:00:00 BC', '4713-11-24 BC', '12:34:56', '1 microsecond'),
      (4, '294276-12-31 23:59:59.999999+00', '294276-12-31 23:59:59.999999', '5874897-12-31', '23:59:59.999999', '0')`);
    const byId = new Map((await s.events(t)).map((e) => [e.key.id, e.after]));
    expect(byId.get(1)).toEqual({ id: 1, tz: 'infinity', ts: 'infinity', d: 'infinity', tm: '24:00:00', iv: '1 year 2 mons' });
    expect(byId.get(2)).toEqual({ id: 2, tz: '-infinity', ts: '-infinity', d: '-infinity', tm: '00:00:00.000001', iv: '-178956970 years -8 mons' });
    expect(byId.get(3)).toEqual({ id: 3, tz: '0044-03-15 12:00:00.123456+00 BC', ts: '4713-01-01 00:00:00 BC', d: '4713-11-24 BC', tm: '12:34:56', iv: '00:00:00.000001' });
    expect(byId.get(4)).toEqual({ id: 4, tz: '294276-12-31T23:59:59.999999+00:00', ts: '294276-12-31T23:59:59.999999', d: '5874897-12-31', tm: '23:59:59.999999', iv: '00:00:00' });
    expect(s.run.fatal).toEqual([]);
  });
});
