import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { VERSION } from '../core/version';
import type { StatusReport } from '../scripts/status/model';
import type { DeadLetter } from '../scripts/dead-letters/record';
import type { ReplayResult } from '../scripts/dead-letters/replay';
import { freePort, startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { es, eventually, kafka, pg, uniqueName } from './support/services';

const ROOT = path.join(__dirname, '..');

/**
 * `npm run status` and `npm run dead-letters` as an operator runs them, against a running
 * pipeline (ingest, indexer, api as processes): documents Elasticsearch refuses (a text column
 * fed to an integer field) and a row above the topic's size limit are parked; the status shows
 * them with the real lags and watermark; after the mapping and the limit are fixed, replay
 * repairs them without overwriting a change made meanwhile; a stopped service is reported down.
 */
describe('operator tools against a running pipeline', () => {
  const table = uniqueName('ops');
  const index = uniqueName('ops');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const topic = `${prefix}.public.${table}`;
  const elastic = es();
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-tools-'));
  let db: Client;
  let env: Record<string, string>;
  const services = new Map<string, RunningService>();

  const start = (name: 'ingest' | 'indexer' | 'api'): RunningService => {
    const s = startService(name, env);
    services.set(name, s);
    // The status reads <service>.log in STATUS_LOGS_DIR: the first process's log (a restarted ingest's has no errors yet).
    if (!fs.existsSync(path.join(logs, `${name}.log`))) fs.symlinkSync(s.logFile, path.join(logs, `${name}.log`));
    return s;
  };
  const cli = (script: string, ...args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
  const json = async <T>(script: string, ...args: string[]): Promise<{ code: number | null; body: T }> => {
    const r = await cli(script, ...args, '--json');
    try {
      return { code: r.code, body: JSON.parse(r.out) as T };
    } catch {
      throw new Error(`${script} ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.out}\n${r.err}`);
    }
  };
  const doc = (id: string) => elastic.get<Record<string, unknown>>({ index, id }, { ignore: [404] });

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, year text)`);
    // A 64 kB limit on the table's topic, so a large row is parked by ingest.
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '65536' }] }] });
    await admin.disconnect();
    const file = path.join(logs, 'pipeline.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true }, year: { type: 'integer' } } } } }));
    const apiPort = await freePort();
    env = {
      PIPELINE_CONFIG: file, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '2', INDEXER_GROUP_ID: uniqueName('g'),
      INDEXER_AUTO_REINDEX: '0', API_PORT: String(apiPort), API_URL: `http://127.0.0.1:${apiPort}`,
      INGEST_METRICS_PORT: String(await freePort()), INDEXER_METRICS_PORT: String(await freePort()), STATUS_LOGS_DIR: logs,
    };
    start('ingest');
    start('indexer');
    start('api');
    await waitForOutput(services.get('ingest')!, 'ingest ready');
    await waitForOutput(services.get('indexer')!, 'indexer consuming');
    await eventually(async () => ((await fetch(`${env.API_URL}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'api ready', 90_000);
  });

  afterAll(async () => {
    for (const s of services.values()) await stopService(s);
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query('DELETE FROM search_pipeline_snapshot WHERE slot_name = $1', [slot]).catch(() => undefined);
    await db.end();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${prefix}.dead-letters`] }).catch(() => undefined);
    await admin.deleteGroups([env.INDEXER_GROUP_ID!]).catch(() => undefined);
    await admin.disconnect();
    const concrete = Object.keys(await elastic.indices.get({ index }, { ignore: [404] }).catch(() => ({}))).filter((k) => k.startsWith(index));
    if (concrete.length) await elastic.indices.delete({ index: concrete }, { ignore: [404] });
    await elastic.close();
  });

  it('lists and shows parked documents, replays them once the mapping is fixed, never over a newer version', async () => {
    await db.query(`INSERT INTO ${table} VALUES (1, 'fine', '1999'), (2, 'parked', 'unknown'), (3, 'parked then changed', 'n/a'), (4, 'parked then deleted', '?')`);
    await db.query(`INSERT INTO ${table} VALUES (5, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000) g), '2000')`); // 128 kB: above the topic's limit
    const parked = await eventually(async () => {
      const r = await json<{ total: number; deadLetters: DeadLetter[] }>('dead-letters.ts', 'list');
      return r.body.total >= 4 ? r.body.deadLetters : undefined;
    }, 'four dead letters', 90_000);
    const byId = new Map(parked.map((d) => [d.id, d]));
    expect(byId.get('2')).toMatchObject({ stage: 'indexer', index, table: `public.${table}`, topic, errorType: 'document_parsing_exception', payload: JSON.stringify({ title: 'parked', year: 'unknown' }) });
    expect(byId.get('5')).toMatchObject({ stage: 'ingest', table: `public.${table}`, key: { id: 5 }, partition: -1, errorType: 'event_too_large' });
    expect((await doc('1')).found).toBe(true);
    expect((await doc('2')).found).toBe(false);

    // Filters: by reason, by index (an ingest dead letter matches by its table), by time.
    const tooLarge = await json<{ matching: number; deadLetters: DeadLetter[] }>('dead-letters.ts', 'list', '--reason', 'event_too_large');
    expect(tooLarge.body.deadLetters.map((d) => d.id)).toEqual(['5']);
    expect((await json<{ matching: number }>('dead-letters.ts', 'list', '--index', index)).body.matching).toBe(4);
    expect((await json<{ matching: number }>('dead-letters.ts', 'list', '--since', '2099-01-01T00:00:00Z')).body.matching).toBe(0);
    const shown = await cli('dead-letters.ts', 'show', byId.get('2')!.ref);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/error +document_parsing_exception/);
    expect(shown.out).toContain(`commit lsn  ${byId.get('2')!.commitLsn}`);

    // Meanwhile: row 3 gets a newer version that indexes fine, row 4 is deleted.
    await db.query(`UPDATE ${table} SET title = 'newer change', year = '2001' WHERE id = 3`);
    await db.query(`DELETE FROM ${table} WHERE id = 4`);
    await eventually(async () => ((await doc('3'))._source?.title === 'newer change' ? true : undefined), 'the newer version of row 3 indexed');
    const newer = (await doc('3'))._version!;
    expect(BigInt(newer)).toBeGreaterThan(BigInt(byId.get('3')!.commitLsn!));

    // The cause fixed: the field takes malformed values from now on.
    await elastic.indices.putMapping({ index, properties: { year: { type: 'integer', ignore_malformed: true } } });
    const replay = await json<{ results: ReplayResult[] }>('dead-letters.ts', 'replay', '--index', index, '--reason', 'document_parsing_exception');
    const outcome = new Map(replay.body.results.map((r) => [r.id, r]));
    expect(replay.code).toBe(0);
    expect(outcome.get('2')).toMatchObject({ how: 'parked-document', outcome: 'replayed' });
    expect(outcome.get('3')).toMatchObject({ outcome: 'superseded' });
    expect(outcome.get('4')).toMatchObject({ outcome: 'superseded', detail: expect.stringMatching(/deleted/) });
    const two = await doc('2');
    expect([two._source, two._version]).toEqual([{ title: 'parked', year: 'unknown' }, Number(byId.get('2')!.commitLsn)]);
    expect([(await doc('3'))._source?.title, (await doc('3'))._version]).toEqual(['newer change', newer]);
    expect((await doc('4')).found).toBe(false);
    // Replaying again changes nothing.
    const again = await json<{ results: ReplayResult[] }>('dead-letters.ts', 'replay', '--index', index, '--reason', 'document_parsing_exception');
    expect(again.body.results.map((r) => r.outcome)).toEqual(['superseded', 'superseded', 'superseded']);

    // The row above the limit: raise it, restart ingest (it reads topic limits at start), re-read the row through the stream.
    const admin = kafka().admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: '1048576' }] }] });
    await admin.disconnect();
    await stopService(services.get('ingest')!);
    await waitForOutput(start('ingest'), 'ingest ready');
    const big = await json<{ results: ReplayResult[] }>('dead-letters.ts', 'replay', '--reason', 'event_too_large');
    expect(big.body.results).toEqual([expect.objectContaining({ id: '5', how: 'reread', outcome: 'replayed' })]);
    const five = await doc('5');
    expect([(five._source?.title as string).length, five._source?.year]).toEqual([128_000, '2000']);
  }, 400_000); // a dozen CLI runs, each a process start and a Kafka group join, on a busy machine

  it('shows the state of the pipeline, figures matching the real ones, and reports a stopped service down', async () => {
    await db.query(`INSERT INTO ${table} VALUES (6, 'for the watermark', '2002')`);
    await eventually(async () => ((await doc('6')).found ? true : undefined), 'row 6 indexed');
    // Searchable now, so the status's document count and the count below see one state: the GET
    // above is realtime, and the replay's writes wait for the next refresh (a CPU-hogged run read 3
    // where the count below, after a refresh in between, found 5).
    await elastic.indices.refresh({ index });
    const { code, body: s } = await eventually(async () => {
      const r = await json<StatusReport>('status.ts');
      return r.body.indexes.indexes?.[0]?.watermark && r.body.services.indexer.health === 'ok' ? r : undefined;
    }, 'a status with the watermark', 60_000);
    expect(s.services.ingest).toMatchObject({ health: 'ok', status: 'ok', version: VERSION });
    expect(s.services.indexer).toMatchObject({ health: 'ok', version: VERSION });
    expect(s.services.api).toMatchObject({ health: 'ok', version: VERSION });
    expect(Object.values(s.infra).map((p) => p.health)).toEqual(['ok', 'ok', expect.stringMatching(/ok|warn/), 'ok']);
    expect(s.slot).toMatchObject({ health: 'ok', slot, active: true, lagBytes: expect.any(Number) });
    expect(s.consumerLag.partitions!.map((p) => [p.topic, p.partition, typeof p.lag])).toEqual([[topic, 0, 'number'], [topic, 1, 'number']]);
    expect(s.progress.snapshot).toEqual([expect.objectContaining({ table: `public.${table}`, done: true })]);
    const ix = s.indexes.indexes![0]!;
    // The status read the positions by realtime GET; a search sees them only once refreshed.
    await elastic.indices.refresh({ index: 'search_pipeline_state' });
    const lsns = (await elastic.search({ index: 'search_pipeline_state', size: 10, query: { bool: { filter: [{ term: { index } }, { term: { topic } }] } } })).hits.hits.flatMap((h) => ((h._source as { lsn?: string }).lsn ? [BigInt((h._source as { lsn: string }).lsn)] : [])); // beside the topic's own document
    expect(ix).toMatchObject({ index, documents: (await elastic.count({ index })).count, positions: { have: 2, expected: 2 } });
    // The watermark is the lowest partition position; positions only move up after the status read them.
    expect(lsns).toHaveLength(2);
    expect(BigInt(ix.watermark!.lsn)).toBeGreaterThan(0n);
    expect(BigInt(ix.watermark!.lsn)).toBeLessThanOrEqual(lsns.reduce((a, b) => (a < b ? a : b)));
    expect(ix.watermark!.ageSeconds).toEqual(expect.any(Number));
    // Three documents and one row were parked; the replays parked nothing new.
    expect(s.deadLetters).toMatchObject({ health: 'warn', topic: `${prefix}.dead-letters`, count: 4 });
    expect(s.deadLetters.recent!.map((d) => d.id).sort()).toEqual(['2', '3', '4', '5']);
    expect(s.deadLetters.recent!.find((d) => d.id === '2')).toMatchObject({ stage: 'indexer', index, errorType: 'document_parsing_exception' });
    // --dead-letters N reads only the tail of the topic, newest first.
    expect((await json<StatusReport>('status.ts', '--dead-letters', '2')).body.deadLetters.recent!.map((d) => d.ref)).toEqual(['0-3', '0-2']);
    expect(s.errors.recent!.some((l) => l.service === 'ingest' && /dead-letter topic/.test(l.message))).toBe(true);
    expect([code, s.healthy]).toEqual([0, true]);

    const text = await cli('status.ts');
    expect(text.out).toContain('HEALTHY');
    expect(text.out).toMatch(new RegExp(`${index} -> ${index}_v1: \\d+ docs, watermark LSN \\d+`));

    await stopService(services.get('api')!);
    const down = await json<StatusReport>('status.ts');
    expect(down.code).toBe(1);
    expect(down.body.healthy).toBe(false);
    expect(down.body.services.api).toMatchObject({ health: 'fail', status: 'down', error: expect.stringMatching(/does not answer \/healthz: connection refused/) });
    expect(down.body.services.ingest.health).toBe('ok');
  }, 300_000);
});
