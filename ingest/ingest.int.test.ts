import type { Client } from 'pg';
import { loadIngestConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import type { ChangeEvent } from '../core/change-event';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { parseLsn } from '../core/lsn';
import { env, eventually, kafka, pg, readTopic, uniqueName } from '../e2e/support/services';
import { createIngest } from './ingest-service';
import { createIngestMetrics } from './metrics';

// Partitions interleave on read; WAL order is the LSN, and a key change's delete precedes its update (same LSN).
const walOrder = (a: ChangeEvent, b: ChangeEvent): number => {
  const d = BigInt(a.lsn) - BigInt(b.lsn);
  if (d !== 0n) return d < 0n ? -1 : 1;
  return a.op === b.op ? 0 : a.op === 'd' ? -1 : 1;
};

/** Real Postgres (logical replication) and real Kafka. */
describe('ingest against Postgres and Kafka', () => {
  const table = uniqueName('items');
  const prefix = uniqueName('t');
  const slot = uniqueName('slot');
  let db: Client;
  let ingest: ReturnType<typeof createIngest>;
  const fatal: unknown[] = [];
  const metrics = createIngestMetrics();

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, title text, price numeric, at timestamptz, body text)`);
    // Heartbeats off: this test counts the topic's messages.
    const config = loadIngestConfig({ ...process.env, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_FLUSH_INTERVAL_MS: '10', INGEST_HEARTBEAT_INTERVAL_MS: '0' });
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [table.replace(/_/g, '-')]: { table, fields: { title: { type: 'text', searchable: true } } } } }));
    ingest = createIngest({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'ingest-test', silentLogger), db, metrics, log: silentLogger, onFatal: (e) => fatal.push(e) });
    await ingest.start();
    await ingest.snapshotDone(); // the (empty) table's snapshot: rows inserted during it would also come as 'r'
  });

  afterAll(async () => {
    await ingest.close();
    await db.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  it('publishes inserts, updates, a key change and deletes, exact, keyed by primary key, with the commit LSN', async () => {
    await db.query(`INSERT INTO ${table} VALUES (9223372036854775807, 'max', 12345678901234567890.5, '2026-01-02 03:04:05.123456+00', 'body')`);
    await db.query('BEGIN');
    await db.query(`INSERT INTO ${table} (id, title) VALUES (1, 'one')`);
    await db.query(`UPDATE ${table} SET title = 'uno' WHERE id = 1`);
    await db.query(`UPDATE ${table} SET id = 2 WHERE id = 1`);
    await db.query('COMMIT');
    await db.query(`DELETE FROM ${table} WHERE id = 2`);

    const topic = `${prefix}.public.${table}`;
    const msgs = await readTopic(kafka(), topic, 6);
    const events = msgs.map((m) => JSON.parse(m.value) as ChangeEvent).sort(walOrder);
    expect(events.map((e) => [e.op, e.key.id])).toEqual([['c', '9223372036854775807'], ['c', '1'], ['u', '1'], ['d', '1'], ['u', '2'], ['d', '2']]);
    expect(events[0]!.after).toMatchObject({ price: '12345678901234567890.5', at: '2026-01-02T03:04:05.123456+00:00' });
    // One transaction, one version: every change inside it carries the commit LSN.
    expect(new Set(events.slice(1, 5).map((e) => e.commitLsn)).size).toBe(1);
    expect(BigInt(events[1]!.commitLsn) > BigInt(events[4]!.lsn)).toBe(true);
    const keyOf = (id: string) => msgs.find((m) => (JSON.parse(m.value) as ChangeEvent).key.id === id)!.key;
    expect(keyOf('1')).toBe('{"id":"1"}');

    // The slot is confirmed up to the last commit once Kafka acknowledged it. No upper bound: other
    // pipelines' heartbeats on this server are transactions every slot decodes (and confirms).
    await eventually(async () => {
      const r = await db.query<{ lsn: string }>('SELECT confirmed_flush_lsn AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      const lsn = parseLsn(r.rows[0]!.lsn);
      return lsn >= BigInt(events[5]!.commitLsn) ? lsn : undefined;
    }, 'slot confirmation');
    expect(fatal).toEqual([]);

    // Metrics: events by table and operation (rate() gives events/s), produce latency, nothing pending.
    const values = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;
    const byOp = Object.fromEntries((await values('ingest_events_total')).map((v) => [`${v.labels.table}/${v.labels.op}`, v.value]));
    expect(byOp).toEqual({ [`public.${table}/c`]: 2, [`public.${table}/u`]: 2, [`public.${table}/d`]: 2 });
    expect((await values('ingest_produce_seconds')).find((v) => (v as { metricName?: string }).metricName === 'ingest_produce_seconds_count')!.value).toBeGreaterThan(0);
    expect((await values('ingest_pending_events'))[0]!.value).toBe(0);
    expect(await values('ingest_errors_total')).toEqual([]);
  });

  it('refuses a table without a primary key with a clear message', async () => {
    const nopk = uniqueName('nopk');
    await db.query(`CREATE TABLE ${nopk} (v text)`);
    try {
      const config = loadIngestConfig({ ...process.env, SLOT_NAME: uniqueName('s'), TOPIC_PREFIX: prefix });
      const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { x: { table: nopk, fields: { v: { type: 'text', searchable: true } } } } }));
      const other = createIngest({ config, pipeline, kafka: createKafka([env('KAFKA_BROKERS')], 't', silentLogger), db, metrics: createIngestMetrics(), log: silentLogger, onFatal: () => undefined });
      await expect(other.start()).rejects.toThrow(/has no primary key.*Add a primary key/);
    } finally {
      await db.query(`DROP TABLE ${nopk}`);
    }
  });
});
