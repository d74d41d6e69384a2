import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { loadIngestConfig } from '../../config';
import { parsePipelineConfig } from '../../config/pipeline';
import { canonicalKey, type ChangeEvent } from '../../core/change-event';
import { createKafka } from '../../core/kafka';
import { silentLogger, type Logger } from '../../core/logger';
import { parseLsn } from '../../core/lsn';
import { createIngest, type IngestDeps } from '../ingest-service';
import { createIngestMetrics } from '../metrics';
import { REQUEST_TABLE } from '../snapshot/resnapshot-requests';
import { STATE_TABLE } from '../snapshot/snapshot-state';

/**
 * Shared by the ingest integration tests (real Postgres and Kafka). Not production code; it
 * lives here because ingest/ may import only core/ and config/, and tests pass their clients in.
 */
export function pipelineFor(tables: readonly string[]): string {
  return JSON.stringify({ version: 1, indexes: Object.fromEntries(tables.map((t) => [t.replace(/_/g, '-'), { table: t, fields: { v: { type: 'text', searchable: true } } }])) });
}

/**
 * An ingest in this process, on a Postgres connection of its own as ingest/main.ts gives it (the
 * test's queries on a shared one would overlap the heartbeat). `seams`: test-only replacements (a
 * faulty decoder), never Kafka or Postgres; `pipeline` (JSON text) and `log` replace the one-field
 * pipeline and the silent logger.
 */
export function startIngestInProcess(tables: readonly string[], env: Record<string, string>, seams: Pick<IngestDeps, 'decode'> & { pipeline?: string; log?: Logger } = {}) {
  const config = loadIngestConfig({ ...process.env, INGEST_FLUSH_INTERVAL_MS: '10', ...env });
  const fatal: unknown[] = [];
  const metrics = createIngestMetrics();
  const { pipeline, log, ...rest } = seams;
  const db = new Client({ connectionString: config.databaseUrl });
  const connected = db.connect();
  connected.catch(() => undefined); // start() reports it
  const service = createIngest({ config, pipeline: parsePipelineConfig(pipeline ?? pipelineFor(tables)), kafka: createKafka(config.kafkaBrokers, 'ingest-test', silentLogger), db, metrics, log: log ?? silentLogger, onFatal: (e) => fatal.push(e), ...rest });
  let closing: Promise<void> | undefined;
  const ingest: typeof service = {
    ...service,
    start: async () => {
      await connected;
      return service.start();
    },
    close: () => (closing ??= service.close().finally(() => connected.then(() => db.end()).catch(() => undefined))),
  };
  return { ingest, fatal, metrics, config };
}

/** Every message of a topic at the moment of the call (up to the high watermarks). */
export async function readAllEvents(kafka: Kafka, topic: string): Promise<Array<{ partition: number; key: string; event: ChangeEvent }>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const want = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const total = [...want.values()].reduce((a, b) => a + b, 0n);
  const out: Array<{ partition: number; key: string; event: ChangeEvent }> = [];
  if (total === 0n) return out;
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const seen = new Map<number, bigint>();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const limit = want.get(partition) ?? 0n;
      if (BigInt(message.offset) >= limit) return;
      out.push({ partition, key: message.key?.toString() ?? '', event: JSON.parse(message.value!.toString()) as ChangeEvent });
      seen.set(partition, BigInt(message.offset) + 1n);
      if ([...want].every(([p, high]) => (seen.get(p) ?? 0n) >= high)) done();
    },
  });
  const timeout = setTimeout(done, 60_000);
  await finished;
  clearTimeout(timeout);
  await consumer.disconnect();
  return out;
}

/** Stream order of one row's events: by commit LSN, then position inside the transaction. */
export function compareEvents(a: ChangeEvent, b: ChangeEvent): number {
  const c = BigInt(a.commitLsn) - BigInt(b.commitLsn);
  if (c !== 0n) return c < 0n ? -1 : 1;
  const l = BigInt(a.lsn) - BigInt(b.lsn);
  return l === 0n ? 0 : l < 0n ? -1 : 1;
}

/** What the index ends with when every event is applied with version = commit LSN: the latest event per key. */
/**
 * The verdict of docs/reliability.md for a topic against its table: rows whose latest event is missing or a
 * delete, rows whose latest event carries other content (stale), and keys alive in the topic but
 * not in the table (extra). `rows` maps canonical keys to the row as `after` should hold it.
 */
export function compareLatestWithRows(latest: ReadonlyMap<string, ChangeEvent>, rows: ReadonlyMap<string, unknown>): { missing: string[]; stale: string[]; extra: string[] } {
  const missing: string[] = [];
  const stale: string[] = [];
  const extra: string[] = [];
  for (const [key, row] of rows) {
    const e = latest.get(key);
    if (!e || e.op === 'd') missing.push(key);
    else if (JSON.stringify(e.after) !== JSON.stringify(row)) stale.push(key);
  }
  for (const [key, e] of latest) if (e.op !== 'd' && !rows.has(key)) extra.push(key);
  return { missing, stale, extra };
}

/**
 * A test_decoding slot the test owns, created before its writes: commit end LSNs by xid read from
 * Postgres independently of ingest, to check what the pipeline's slot confirmed.
 */
export async function createWitnessSlot(db: Client, witness: string): Promise<void> {
  await db.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [witness]);
}

/** Consumes the witness slot's commits decoded since the last call into `commitEnds` (xid → commit end LSN). */
export async function readCommitEnds(db: Client, witness: string, commitEnds: Map<number, bigint>): Promise<void> {
  const { rows } = await db.query<{ lsn: string; xid: string }>(
    `SELECT lsn::text, xid::text FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '1', 'skip-empty-xacts', '1') WHERE data LIKE 'COMMIT%'`,
    [witness],
  );
  for (const r of rows) commitEnds.set(Number(r.xid), parseLsn(r.lsn));
}

/** Distinct row events per transaction id in a topic (a re-sent event counts once). */
export function eventsPerTx(events: readonly ChangeEvent[]): Map<number, number> {
  const distinct = new Set<string>();
  const perTx = new Map<number, number>();
  for (const e of events) {
    if (e.op === 'h') continue;
    const id = `${e.txId}|${e.lsn}|${e.op}|${canonicalKey(e.key)}`;
    if (distinct.has(id)) continue;
    distinct.add(id);
    perTx.set(e.txId, (perTx.get(e.txId) ?? 0) + 1);
  }
  return perTx;
}

export function latestByKey(events: readonly ChangeEvent[]): Map<string, ChangeEvent> {
  const latest = new Map<string, ChangeEvent>();
  for (const e of events) {
    if (e.op === 'h' || e.op === 't') continue;
    const k = canonicalKey(e.key);
    const cur = latest.get(k);
    if (!cur || compareEvents(cur, e) <= 0) latest.set(k, e);
  }
  return latest;
}

export async function currentWalLsn(db: Client): Promise<bigint> {
  return parseLsn((await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')).rows[0]!.lsn);
}

export async function confirmedLsn(db: Client, slot: string): Promise<bigint | undefined> {
  const r = await db.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  const lsn = r.rows[0]?.lsn;
  return lsn ? parseLsn(lsn) : undefined;
}

export async function snapshotState(db: Client, slot: string): Promise<Array<{ table_name: string; rows_done: string; rows_total: string | null; done: boolean }>> {
  return (await db.query(`SELECT table_name, rows_done, rows_total, done FROM ${STATE_TABLE} WHERE slot_name = $1 ORDER BY table_name`, [slot])).rows;
}

/** Waits until no walsender holds `slot` (a closed stream's backend exits a moment later); false if the slot is gone. */
export async function slotReleased(db: Client, slot: string, timeoutMs = 10_000): Promise<boolean> {
  for (const until = Date.now() + timeoutMs; ; ) {
    const r = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => ({ rows: [] as Array<{ active: boolean }> }));
    if (!r.rows[0]) return false;
    if (!r.rows[0].active) return true;
    if (Date.now() > until) throw new Error(`replication slot ${slot} still held by a walsender after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function dropPipelineObjects(db: Client, slot: string, tables: readonly string[]): Promise<void> {
  // A slot left behind keeps WAL forever.
  if (await slotReleased(db, slot).catch(() => false)) await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
  await db.query(`DROP PUBLICATION IF EXISTS ${slot}`).catch(() => undefined);
  await db.query(`DELETE FROM ${STATE_TABLE} WHERE slot_name = $1`, [slot]).catch(() => undefined);
  await db.query(`DELETE FROM ${REQUEST_TABLE} WHERE slot_name = $1`, [slot]).catch(() => undefined);
  for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
}

/**
 * One pipeline (slot, publication, topic prefix) over `tables`, started and stopped by the test;
 * `cleanup` closes every run and drops what the pipeline created, tables included.
 */
export function testPipeline(db: Client, tables: readonly string[], env: Record<string, string> = {}) {
  const slot = `slot_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const prefix = `t_${slot.slice(5)}`;
  const runs: Array<ReturnType<typeof startIngestInProcess>> = [];
  return {
    slot,
    prefix,
    topic: (table: string, schema = 'public') => `${prefix}.${schema}.${table}`,
    runs,
    start(extra: Record<string, string> = {}, seams: Parameters<typeof startIngestInProcess>[2] = {}) {
      const r = startIngestInProcess(tables, { SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_HEARTBEAT_INTERVAL_MS: '50', ...env, ...extra }, seams);
      runs.push(r);
      return r;
    },
    async cleanup(): Promise<void> {
      for (const r of runs) await r.ingest.close();
      await dropPipelineObjects(db, slot, tables);
    },
  };
}

/** Resolves once the slot is confirmed past the WAL position of now: everything committed so far is in Kafka (needs heartbeats). */
export async function quiesce(db: Client, slot: string, timeoutMs = 60_000): Promise<void> {
  const target = await currentWalLsn(db);
  const deadline = Date.now() + timeoutMs;
  while (((await confirmedLsn(db, slot)) ?? 0n) < target) {
    if (Date.now() > deadline) throw new Error(`slot ${slot} not confirmed past ${target} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The row events (no heartbeats) of a topic, in stream order (commit LSN, then LSN). */
export async function rowEvents(kafka: Kafka, topic: string): Promise<ChangeEvent[]> {
  // A key change's delete and update share one LSN (and land on different partitions): delete first.
  const tie = (a: ChangeEvent, b: ChangeEvent): number => compareEvents(a, b) || (a.op === b.op ? 0 : a.op === 'd' ? -1 : b.op === 'd' ? 1 : 0);
  return (await readAllEvents(kafka, topic)).map((m) => m.event).filter((e) => e.op !== 'h').sort(tie);
}
