import { randomBytes } from 'node:crypto';
import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { loadIndexerConfig, type IndexerConfig } from '../config';
import { parsePipelineConfig, type PipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { dropSearchIndex } from './support/indexer-harness';
import { es, eventually, kafka, pg, uniqueName } from './support/services';
import { compareEvents, quiesce, readAllEvents, testPipeline } from '../ingest/test-support/harness';
import { createIndexer } from '../indexer/indexer-service';
import { createIndexerMetrics } from '../indexer/metrics';
import { aliasTarget } from '../indexer/reindex/generations';
import { reindex } from '../indexer/reindex/reindex';

/**
 * Unchanged TOAST values, Postgres → ingest → Kafka → indexer → Elasticsearch with the default
 * replica identity: an update that leaves a large out-of-line column alone does not carry it, and
 * the document must keep it (from an earlier change in the same batch, else from Elasticsearch).
 */
describe('unchanged TOAST columns through the whole pipeline', () => {
  const table = uniqueName('toastpipe');
  const index = uniqueName('toastdocs');
  let db: Client;
  let client: EsClient;
  let p: ReturnType<typeof testPipeline>;
  let run: ReturnType<ReturnType<typeof testPipeline>['start']>;
  let config: Readonly<IndexerConfig>;
  let pipeline: PipelineConfig;
  let metrics: ReturnType<typeof createIndexerMetrics>;
  let indexer: ReturnType<typeof createIndexer> | undefined;
  const fatal: unknown[] = [];
  // Random base64: incompressible, so Postgres stores it out of line (TOAST) at ~20 KB.
  const big = (): string => randomBytes(15_000).toString('base64');
  const bigs = new Map<number, string>();

  const source = async (id: number) => (await client.get<Record<string, unknown>>({ index, id: String(id) }, { ignore: [404] }))._source;
  const sourceWith = (id: number, n: number) =>
    eventually(async () => {
      const s = await source(id);
      return s?.n === n ? s : undefined;
    }, `document ${id} with n = ${n}`, 60_000);
  const unresolved = async () => (await metrics.unchangedUnresolved.get()).values.reduce((s, v) => s + v.value, 0);
  const fetched = async () => (await metrics.unchangedFetched.get()).values.reduce((s, v) => s + v.value, 0);

  beforeAll(async () => {
    db = await pg();
    client = es();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int, note text, big text)`);
    p = testPipeline(db, [table]);
    run = p.start();
    await run.ingest.start();
    await run.ingest.snapshotDone();
    config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: p.prefix, INDEXER_GROUP_ID: uniqueName('g'), INDEXER_WATERMARK_INTERVAL_MS: '100', INDEXER_MAX_RETRIES: '2' });
    pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { n: { type: 'integer' }, note: { type: 'keyword' }, body: { type: 'text', column: 'big', searchable: true } } } } }));
    metrics = createIndexerMetrics();
  });

  afterAll(async () => {
    await indexer?.close();
    await p.cleanup();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteGroups([config.groupId]).catch(() => undefined); // the reindex deletes its own
    await admin.deleteTopics({ topics: [p.topic(table), `${p.prefix}.dead-letters`] }).catch(() => undefined);
    await admin.disconnect();
    await dropSearchIndex(client, index);
    await client.close();
    await db.end();
  });

  it('keeps the value carried by an earlier change of the same batch', async () => {
    for (const id of [1, 2, 3, 4]) bigs.set(id, big());
    // Written before the indexer starts, so its first batch holds the insert and the update of row 4.
    await db.query(`INSERT INTO ${table} VALUES (4, 0, 'four', $1)`, [bigs.get(4)]);
    await db.query(`UPDATE ${table} SET n = 1 WHERE id = 4`);
    for (const id of [1, 2, 3]) await db.query(`INSERT INTO ${table} VALUES ($1, 0, 'row', $2)`, [id, bigs.get(id)]);
    await quiesce(db, p.slot);

    indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'indexer-test', silentLogger), es: client, metrics, log: silentLogger, onFatal: (e) => void fatal.push(e) });
    await indexer.start();
    expect(await sourceWith(4, 1)).toEqual({ n: 1, note: 'four', body: bigs.get(4) });
    for (const id of [1, 2, 3]) expect(await sourceWith(id, 0)).toEqual({ n: 0, note: 'row', body: bigs.get(id) });
    // All of it was in Kafka before the indexer joined: one fetch, one batch, nothing read back.
    expect(await fetched()).toBe(0);
  });

  it('reads the value from Elasticsearch when the batch does not carry it, also for several updates in one transaction', async () => {
    await db.query(`UPDATE ${table} SET n = 1 WHERE id = 1`);
    await db.query('BEGIN');
    await db.query(`UPDATE ${table} SET n = 2 WHERE id = 2`);
    await db.query(`UPDATE ${table} SET n = 3, note = 'second' WHERE id = 2`);
    await db.query('COMMIT');
    // The second update does not carry the value the first one just wrote: same batch, same version.
    bigs.set(3, big());
    await db.query('BEGIN');
    await db.query(`UPDATE ${table} SET n = 2, big = $1 WHERE id = 3`, [bigs.get(3)]);
    await db.query(`UPDATE ${table} SET n = 3 WHERE id = 3`);
    await db.query('COMMIT');

    expect(await sourceWith(1, 1)).toEqual({ n: 1, note: 'row', body: bigs.get(1) });
    expect(await sourceWith(2, 3)).toEqual({ n: 3, note: 'second', body: bigs.get(2) });
    expect(await sourceWith(3, 3)).toEqual({ n: 3, note: 'row', body: bigs.get(3) });
    expect(await unresolved()).toBe(0);
    // At least rows 1 and 2 had to be read back (row 3 too if its transaction was cut in two batches).
    expect(await fetched()).toBeGreaterThanOrEqual(2);

    // The test is only worth something if Postgres really left the value out of those updates.
    const events = (await readAllEvents(kafka(), p.topic(table))).map((m) => m.event).filter((e) => e.op === 'u');
    const withoutBig = events.filter((e) => e.unchanged?.includes('big') && !('big' in (e.after ?? {})));
    expect(new Set(withoutBig.map((e) => e.key.id))).toEqual(new Set([1, 2, 3, 4]));
    expect(fatal).toEqual([]);
  });

  it('indexes what it has, without placeholder or null, and counts it, when the document is gone', async () => {
    // Lost behind the pipeline's back (e.g. deleted by hand): nothing to merge from.
    await client.delete({ index, id: '1', refresh: true });
    await db.query(`UPDATE ${table} SET n = 5 WHERE id = 1`);
    expect(await sourceWith(1, 5)).toEqual({ n: 5, note: 'row' });
    expect(await unresolved()).toBe(1);
  });

  it('keeps the value when the primary key changes, in the document and in the topic', async () => {
    const moving = big();
    await db.query(`INSERT INTO ${table} VALUES (8000001, 0, 'moving', $1)`, [moving]);
    await db.query(`UPDATE ${table} SET id = 8000002 WHERE id = 8000001`);
    await db.query(`UPDATE ${table} SET n = 7 WHERE id = 8000002`);
    expect(await sourceWith(8000002, 7)).toEqual({ n: 7, note: 'moving', body: moving });
    expect(await source(8000001)).toBeUndefined();
    expect(await unresolved()).toBe(1); // the one of the test before: nothing given up on here

    // The key change is a delete and an update that carries the value, so a replay has it too.
    const events = (await readAllEvents(kafka(), p.topic(table))).map((m) => m.event).sort(compareEvents);
    expect(events.filter((e) => e.key.id === 8000001).map((e) => e.op)).toEqual(['c', 'd']);
    const [movedEvent, later, ...none] = events.filter((e) => e.key.id === 8000002);
    expect(none).toEqual([]);
    expect(movedEvent!.after?.big).toBe(moving);
    expect(movedEvent!.unchanged).toBeUndefined();
    // The update after the move is a plain TOAST case again: Postgres left the value out.
    expect(later!.unchanged).toEqual(['big']);
  });

  it('a reindex replaying the topic from offset 0 rebuilds every document with its value', async () => {
    // A quiet topic lets the reindex find its cut (ingest heartbeats would keep moving the end).
    await quiesce(db, p.slot);
    await run.ingest.close();
    const result = await reindex({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'reindex-test', silentLogger), es: client, log: silentLogger }, index);
    expect(result.to).toBe(`${index}_v2`);
    expect(await aliasTarget(client, index)).toBe(`${index}_v2`);
    // Replayed from the insert, row 1 gets its value back.
    expect(await source(1)).toEqual({ n: 5, note: 'row', body: bigs.get(1) });
    expect(await source(2)).toEqual({ n: 3, note: 'second', body: bigs.get(2) });
    expect(await source(3)).toEqual({ n: 3, note: 'row', body: bigs.get(3) });
    expect(await source(4)).toEqual({ n: 1, note: 'four', body: bigs.get(4) });
    expect((await source(8000002))?.body).toHaveLength(20_000);
    expect(await source(8000001)).toBeUndefined();
    expect(fatal).toEqual([]);
  });
});
