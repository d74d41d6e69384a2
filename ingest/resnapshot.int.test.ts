import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { eventually, kafka, pg, uniqueName } from '../e2e/support/services';
import { readRequest, requestResnapshot } from './snapshot/resnapshot-requests';
import { dropPipelineObjects, latestByKey, pipelineFor, quiesce, readAllEvents, startIngestInProcess } from './test-support/harness';

/** Real Postgres and Kafka: re-snapshot requests written beside a running ingest are copied through the stream. */
describe('re-snapshot on demand', () => {
  let db: Client;
  const table = uniqueName('resnap');
  const other = uniqueName('resnap_other');
  const slot = uniqueName('slot');
  const prefix = uniqueName('t');
  const topic = `${prefix}.public.${table}`;
  let run: ReturnType<typeof startIngestInProcess>;
  const ingestEnv = () => ({ SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '50', INGEST_SNAPSHOT_CHUNK_ROWS: '100', INGEST_RESNAPSHOT_POLL_MS: '100' });

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, n int)`);
    await db.query(`CREATE TABLE ${other} (id int PRIMARY KEY, v text)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'row ' || g, g FROM generate_series(1, 300) g`);
    run = startIngestInProcess([table], ingestEnv());
    await run.ingest.start();
    await run.ingest.snapshotDone();
    await quiesce(db, slot);
  }, 120_000);

  afterAll(async () => {
    await run.ingest.close();
    await dropPipelineObjects(db, slot, [table, other]);
    await db.end();
  });

  const finished = (id: number) => eventually(async () => {
    const r = await readRequest(db, id);
    return r?.done ? r : undefined;
  }, `re-snapshot request ${id} done`, 60_000);

  /** Events published after the commit LSN `after` (the ones the request caused, and any stream changes). */
  async function eventsAfter(after: bigint): Promise<ChangeEvent[]> {
    await quiesce(db, slot);
    return (await readAllEvents(kafka(), topic)).map((m) => m.event).filter((e) => e.op !== 'h' && BigInt(e.commitLsn) > after);
  }
  const maxCommit = async (): Promise<bigint> => (await readAllEvents(kafka(), topic)).reduce((m, x) => (BigInt(x.event.commitLsn) > m ? BigInt(x.event.commitLsn) : m), 0n);

  it('copies exactly a key range, in chunks, and the latest event of every key still equals its row', async () => {
    const before = await maxCommit();
    const id = await requestResnapshot(db, slot, `public.${table}`, { from: ['50'], to: ['260'] }, 'test');
    // Changes while it copies: whatever the interleaving, the newest version must win.
    await db.query(`UPDATE ${table} SET v = 'changed', n = -1 WHERE id IN (60, 150, 250)`);
    const r = await finished(id);
    expect(r).toMatchObject({ rowsDone: 211, error: null });
    const events = await eventsAfter(before);
    const reads = events.filter((e) => e.op === 'r');
    const copied = new Set(reads.map((e) => e.key.id as number));
    // Every key of the range that was not changed meanwhile is copied; nothing outside it is.
    const unchanged = Array.from({ length: 211 }, (_, i) => 50 + i).filter((k) => ![60, 150, 250].includes(k));
    expect(unchanged.filter((k) => !copied.has(k))).toEqual([]);
    expect([...copied].filter((k) => k < 50 || k > 260)).toEqual([]);
    expect(new Set(reads.map((e) => e.commitLsn)).size).toBe(3); // 100 + 100 + 11 rows: three high watermarks
    const latest = latestByKey((await readAllEvents(kafka(), topic)).map((m) => m.event));
    for (const k of [60, 150, 250]) expect(latest.get(canonicalKey({ id: k }))?.after).toEqual({ id: k, v: 'changed', n: -1 });
  }, 120_000);

  it('copies listed keys and deletes the documents of keys without a row, on the same version', async () => {
    const before = await maxCommit();
    const id = await requestResnapshot(db, slot, `public.${table}`, { keys: [['7'], ['1000']] }, 'test');
    expect(await finished(id)).toMatchObject({ rowsDone: 1, error: null });
    const events = await eventsAfter(before);
    expect(events.map((e) => [e.op, e.key.id] as [string, number]).sort((a, b) => a[1] - b[1])).toEqual([['r', 7], ['d', 1000]]);
    expect(events[0]!.commitLsn).toBe(events[1]!.commitLsn);
  }, 120_000);

  it('ends a request whose keys Postgres refuses, or whose table is not captured, with the reason, and keeps streaming', async () => {
    const bad = await requestResnapshot(db, slot, `public.${table}`, { keys: [['not a number']] }, 'test');
    expect((await finished(bad)).error).toMatch(/Postgres refused its keys: invalid input syntax for type integer/);
    const elsewhere = await requestResnapshot(db, slot, `public.${other}`, {}, 'test');
    expect((await finished(elsewhere)).error).toMatch(new RegExp(`public.${other} is not captured by this pipeline`));
    expect(run.fatal).toEqual([]);
    const before = await maxCommit();
    await db.query(`UPDATE ${table} SET v = 'after' WHERE id = 1`);
    expect((await eventsAfter(before)).map((e) => [e.op, e.key.id])).toEqual([['u', 1]]);
  }, 120_000);

  it('npm run resnapshot: requests a key range, waits until the running ingest copied it, and names bad input', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'resnapshot-')), 'pipeline.json');
    fs.writeFileSync(file, pipelineFor([table]));
    const cli = (...args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'resnapshot.ts'), ...args], { env: { ...process.env, PIPELINE_CONFIG: file, SLOT_NAME: slot } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    const before = await maxCommit();
    const ok = await cli(`public.${table}`, '--from', '5', '--to', '9');
    expect(ok.out).toMatch(new RegExp(`re-snapshot #\\d+ of public.${table}, keys \\["5"\\] to \\["9"\\], requested for slot ${slot}`));
    expect(ok.out).toMatch(/re-snapshot #\d+ done: 5 rows copied through the stream/);
    expect(ok.code).toBe(0);
    const copied = (await eventsAfter(before)).map((e) => [e.op, e.key.id] as [string, number]).sort((a, b) => a[1] - b[1]);
    expect(copied).toEqual([5, 6, 7, 8, 9].map((k) => ['r', k]));
    expect(await cli(`public.${table}`, '--from', 'five')).toMatchObject({ code: 2, out: expect.stringMatching(/Postgres refused the bounds for the key \(id\): invalid input syntax for type integer/) });
    expect(await cli(`public.${table}`, '--from', '["1", "2"]')).toMatchObject({ code: 2, out: expect.stringContaining('the key has 1 column(s) (id)') });
    expect(await cli(`public.${other}`)).toMatchObject({ code: 2, out: expect.stringContaining(`public.${other} is not captured from Postgres by the pipeline config`) });
  }, 120_000);

  it('keeps a request written while ingest is down, and the next start copies it', async () => {
    await run.ingest.close();
    const id = await requestResnapshot(db, slot, `public.${table}`, { from: ['1'], to: ['3'] }, 'test');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readRequest(db, id)).toMatchObject({ done: false, rowsDone: 0 });
    run = startIngestInProcess([table], ingestEnv());
    await run.ingest.start();
    expect(await finished(id)).toMatchObject({ rowsDone: 3, error: null });
  }, 120_000);
});
