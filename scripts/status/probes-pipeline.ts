import type { Client as EsClient } from '@elastic/elasticsearch';
import type { KafkaClient } from '../../core/kafka-client';
import { existing, type KafkaCluster } from '../../core/kafka-cluster';
import type { Client as PgClient } from 'pg';
import { sourceTables, type PipelineConfig } from '../../config/pipeline';
import { topicFor } from '../../core/change-event';
import { readPositions, STATE_INDEX } from '../../core/watermark-store';
import { LEASE_INDEX } from '../../indexer/reindex/reindex-lease';
import { readRange, topicRange } from '../dead-letters/kafka-reader';
import { parseDeadLetter } from '../dead-letters/record';
import type { ConsumerLagPart, DeadLettersPart, IndexStatus, IndexesPart, PartitionLag, ProgressPart, SlotPart, SnapshotTable } from './model';
import { samplesOf, type Sample } from './prom-text';

/** The replication slot as Postgres sees it: held WAL (bytes behind the current WAL position), active, lost. */
export async function probeSlot(db: PgClient, slot: string, maxLagBytes: number, ingestMetrics?: Sample[]): Promise<SlotPart> {
  const { rows } = await db.query<{ active: boolean; wal_status: string | null; lag: string | null; confirmed: string | null }>(
    `SELECT active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag, confirmed_flush_lsn::text AS confirmed
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const r = rows[0];
  if (!r) return { health: 'fail', slot, error: `replication slot ${slot} does not exist: ingest has not run yet, or it was dropped (SLOT_NAME)` };
  const lagBytes = r.lag === null ? undefined : Number(r.lag);
  const lagSeconds = ingestMetrics ? samplesOf(ingestMetrics, 'ingest_slot_lag_seconds')[0]?.value : undefined;
  const part: SlotPart = { health: 'ok', slot, active: r.active, walStatus: r.wal_status, confirmedLsn: r.confirmed, ...(lagBytes !== undefined ? { lagBytes } : {}), ...(lagSeconds !== undefined ? { lagSeconds } : {}) };
  if (r.wal_status === 'lost') return { ...part, health: 'fail', error: 'the slot is lost (WAL removed): ingest stops with slot_lost; INGEST_RESNAPSHOT=1 copies every table again' };
  if (!r.active) return { ...part, health: 'fail', error: 'no process streams from the slot: ingest is down' };
  if (lagBytes !== undefined && lagBytes > maxLagBytes) return { ...part, health: 'fail', error: `the slot holds ${lagBytes} bytes of WAL (over STATUS_MAX_SLOT_LAG_BYTES=${maxLagBytes})` };
  return part;
}

/** The topics each index reads (a joined index reads several). */
export function topicsOf(pipeline: PipelineConfig, prefix: string): Map<string, string[]> {
  return new Map(pipeline.indexes.map((spec) => [spec.name, [...new Set(sourceTables(spec).map((t) => topicFor(prefix, t)))]]));
}

/** The group's committed offset against the end of each partition of the pipeline's topics. */
export async function probeConsumerLag(cluster: KafkaCluster, group: string, topics: readonly string[], warnAbove: number): Promise<ConsumerLagPart> {
  const present = await existing(cluster, topics);
  const missing = topics.filter((t) => !present.includes(t));
  const partitions: PartitionLag[] = [];
  const committed = present.length ? await cluster.committed(group, present) : [];
  for (const { topic, partitions: ps } of committed) {
    for (const end of await cluster.offsets(topic)) {
      const c = ps.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(c) < 0n ? BigInt(end.low) : BigInt(c);
      partitions.push({ topic, partition: end.partition, committed: BigInt(c) < 0n ? null : c, end: end.high, lag: Number(BigInt(end.high) - from) });
    }
  }
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const total = partitions.reduce((n, p) => n + p.lag, 0);
  const worst = Math.max(0, ...partitions.map((p) => p.lag));
  const note = missing.length ? `topics not created yet: ${missing.join(', ')}` : undefined;
  return { health: worst > warnAbove ? 'warn' : 'ok', group, total, partitions, ...(note ? { note } : {}), ...(worst > warnAbove ? { error: `a partition is ${worst} messages behind (over STATUS_MAX_CONSUMER_LAG=${warnAbove})` } : {}) };
}

/** Snapshot progress from ingest's state table (and its ETA metric), reindex runs from their leases. */
export async function probeProgress(db: PgClient | undefined, es: EsClient | undefined, slot: string, ingestMetrics?: Sample[]): Promise<ProgressPart> {
  const part: ProgressPart = { health: 'ok' };
  const errors: string[] = [];
  if (db) {
    try {
      const { rows } = await db.query<{ table_name: string; rows_done: string; rows_total: string | null; done: boolean }>(
        'SELECT table_name, rows_done::text, rows_total::text, done FROM search_pipeline_snapshot WHERE slot_name = $1 ORDER BY table_name', [slot]);
      const eta = new Map((ingestMetrics ? samplesOf(ingestMetrics, 'ingest_snapshot_eta_seconds') : []).map((s) => [s.labels.table, s.value]));
      part.snapshot = rows.map((r): SnapshotTable => {
        const total = r.rows_total === null ? null : Number(r.rows_total);
        const done = Number(r.rows_done);
        return { table: r.table_name, rowsDone: done, rowsTotal: total, done: r.done, percent: r.done ? 100 : total ? Math.min(100, Math.round((done / total) * 1000) / 10) : null, ...(!r.done && eta.has(r.table_name) ? { etaSeconds: eta.get(r.table_name) } : {}) };
      });
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') part.snapshot = []; // ingest never ran against this database
      else errors.push(`snapshot progress: ${(err as Error).message}`);
    }
  }
  if (es) {
    try {
      const res = await es.search<{ owner: string; expiresAt: number }>({ index: LEASE_INDEX, size: 100, query: { prefix: { _id: 'reindex:' } } }, { ignore: [404] });
      const now = Date.now();
      part.reindex = (res.hits?.hits ?? []).filter((h) => (h._source?.expiresAt ?? 0) > now).map((h) => ({ index: h._id!.slice('reindex:'.length), owner: h._source!.owner, expiresAt: new Date(h._source!.expiresAt).toISOString() }));
    } catch (err) {
      errors.push(`reindex leases: ${(err as Error).message}`);
    }
  }
  if (errors.length) return { ...part, health: 'warn', error: errors.join('; ') };
  return part;
}

/** Per index: the alias target, its document count, and the freshness watermark over every partition of its topics. */
export async function probeIndexes(es: EsClient, byIndex: Map<string, string[]>, maxAgeS: number): Promise<IndexesPart> {
  const now = Date.now();
  const indexes: IndexStatus[] = [];
  const problems: string[] = [];
  const stateExists = await es.indices.exists({ index: STATE_INDEX });
  for (const [index, topics] of byIndex) {
    const status: IndexStatus = { index, watermark: null, positions: { have: 0, expected: 0 } };
    const alias = await es.indices.getAlias({ name: index }, { ignore: [404] }).catch(() => undefined);
    const target = alias && typeof alias === 'object' ? Object.keys(alias).find((k) => k !== 'error' && k !== 'status') : undefined;
    if (target) status.target = target;
    const count = await es.count({ index }, { ignore: [404] }).catch(() => undefined);
    if (count && typeof count.count === 'number') status.documents = count.count;
    let lsn: bigint | undefined;
    let commitTs: string | undefined;
    let updatedAt: string | undefined;
    for (const topic of stateExists ? topics : []) {
      const read = await readPositions(es, index, topic);
      status.positions.expected += read?.partitions ?? 1;
      for (const p of read?.positions.values() ?? []) {
        status.positions.have++;
        if (lsn === undefined || BigInt(p.lsn) < lsn) lsn = BigInt(p.lsn);
        if (p.commitTs && (commitTs === undefined || p.commitTs < commitTs)) commitTs = p.commitTs;
        if (updatedAt === undefined || p.updatedAt < updatedAt) updatedAt = p.updatedAt;
      }
    }
    if (!stateExists) status.positions.expected = topics.length;
    if (lsn !== undefined && status.positions.have >= status.positions.expected) {
      const ageSeconds = commitTs ? Math.max(0, Math.round((now - Date.parse(commitTs)) / 100) / 10) : null;
      status.watermark = { lsn: lsn.toString(), commitTs: commitTs ?? null, ageSeconds, updatedAt: updatedAt! };
      if (ageSeconds !== null && ageSeconds > maxAgeS) problems.push(`${index}: watermark ${ageSeconds} s old (over STATUS_MAX_WATERMARK_AGE_S=${maxAgeS})`);
    } else problems.push(`${index}: no watermark yet (${status.positions.have} of ${status.positions.expected} partitions have a position)`);
    if (status.documents === undefined) problems.push(`${index}: the index does not exist`);
    indexes.push(status);
  }
  return { health: problems.length ? 'fail' : 'ok', indexes, ...(problems.length ? { error: problems.join('; ') } : {}) };
}

/** How many dead letters the topic holds and the last `recent` of them. */
export async function probeDeadLetters(kafka: KafkaClient, cluster: KafkaCluster, topic: string, prefix: string, recent: number, timeoutMs: number): Promise<DeadLettersPart> {
  const ranges = await topicRange(cluster, topic);
  if (!ranges) return { health: 'ok', topic, count: 0, recent: [], note: 'the dead-letter topic does not exist yet' };
  const count = ranges.reduce((n, r) => n + Number(r.high - r.low), 0);
  const tail = count ? await readRange(kafka, topic, ranges, timeoutMs, (r) => r.high - BigInt(recent)) : [];
  const letters = tail.map((m) => parseDeadLetter(m, prefix)).slice(-recent).reverse();
  return {
    health: count ? 'warn' : 'ok', topic, count,
    recent: letters.map((d) => ({ ref: d.ref, parkedAt: d.parkedAt, stage: d.stage, ...(d.index ? { index: d.index } : {}), ...(d.id ? { id: d.id } : {}), ...(d.table ? { table: d.table } : {}), errorType: d.errorType, reason: d.reason.slice(0, 300) })),
  };
}
