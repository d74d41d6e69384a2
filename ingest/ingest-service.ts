import { Pool, type Client } from 'pg';
import type { IngestConfig } from '../config';
import { sourceTables, type PipelineConfig } from '../config/pipeline';
import { topicFor } from '../core/change-event';
import { errorMessage, PipelineError } from '../core/errors';
import { ensureTopics, warnPartitionMismatch } from '../core/kafka';
import type { Logger } from '../core/logger';
import { every, type Periodic } from '../core/periodic';
import type { Tracing } from '../core/tracing';
import { ChangeTraces } from './change-traces';
import { CommitBatcher } from './commit-batcher';
import type { IngestMetrics } from './metrics';
import { KafkaEventPublisher } from './sink/kafka-publisher';
import { isKafkaUnavailable, untilKafkaAvailable } from '../core/kafka-unavailable';
import { clusterLayout, WireProducer } from './sink/wire/wire-producer';
import { WireMessageProducer } from './sink/wire/wire-message-producer';
import type { KafkaClient } from '../core/kafka-client';
import { topicsWithEvents } from './sink/topic-history';
import { startSlotLagMonitor } from './slot-lag';
import { ChunkWindows } from './snapshot/chunk-window';
import { addTables, ensureStateTable, hasState, pendingTables, resetState } from './snapshot/snapshot-state';
import { createSnapshotRunner } from './snapshot/snapshot-runner';
import { startReconcileJob } from './reconcile/reconcile-job';
import { ensureRequestTable, hasPendingRequests, supersedeRequests } from './snapshot/resnapshot-requests';
import { pgCurrentRowReader } from './source/current-row';
import { PgChangeSource } from './source/pg-change-source';
import { createSchemaWatch, type SchemaProblem } from './schema/schema-watch';
import { emitHeartbeat } from './source/pg-messages';
import { checkTables, dropSlot, ensurePublication, readSlot } from './source/pg-setup';
import { createSlotReporting } from './source/slot-creation';
import { decideSlot } from './source/slot-guard';
import { acquireSlotLease, type SlotLease } from './source/slot-lease';
import { countByTableAndOp } from './event-counts';
import { createStreamHandler, type ChangeDecoder } from './stream-handler';

export interface IngestDeps {
  config: Readonly<IngestConfig>;
  pipeline: PipelineConfig;
  kafka: KafkaClient;
  /**
   * Ingest's own connection: set-up runs on it one query at a time, then the heartbeat timer alone.
   * Another user's query on it would overlap the heartbeat (pg queues it today; pg@9 refuses).
   */
  db: Client;
  metrics: IngestMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
  /** pgoutput change → events; a seam for tests that inject a decoding fault. Default: toChangeEvents. */
  decode?: ChangeDecoder;
  /** Traces of sampled changes, from decoding to Kafka (core/tracing.ts). Default: off. */
  tracing?: Tracing;
}

/** A metric label for an error: its PipelineError code in lower case (replication_failed, kafka_produce_failed, ...). */
export function errorKind(err: unknown): string {
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
    if (cur instanceof PipelineError) return cur.code.toLowerCase();
    cur = cur.cause;
  }
  return 'unknown';
}

/** Postgres slot → change events → Kafka, confirming the slot only behind Kafka's acks. */
export function createIngest(deps: IngestDeps) {
  const { config, pipeline, kafka, db, metrics, log } = deps;
  // Every fatal error is counted by its code (errors by kind), then handed to the caller.
  // Once close() began, the stream's connection is ended on purpose (the lease's release ends it
  // mid-stream): its "Connection terminated" is the shutdown itself, not a failure to report.
  let shuttingDown = false;
  const onFatal = (err: unknown): void => {
    if (shuttingDown) {
      log.debug('error while closing, ignored', { err: errorMessage(err) });
      return;
    }
    metrics.errors.inc({ kind: errorKind(err) });
    deps.onFatal(err);
  };
  const slot = config.slotName;
  // Every table a document is built from, related tables of joined indexes included: a change to any of them rebuilds documents.
  const tables = [...new Map(pipeline.indexes.flatMap(sourceTables).map((t) => [`${t.schema}.${t.table}`, { schema: t.schema, table: t.table }])).values()];
  const topics = tables.map((t) => topicFor(config.topicPrefix, t));
  const roots = new Set(pipeline.indexes.map((i) => `${i.source.schema}.${i.source.table}`));
  const deadLetterTopic = `${config.topicPrefix}.dead-letters`;
  const traces = deps.tracing?.on ? new ChangeTraces(deps.tracing) : undefined;
  const cluster = () => kafka.cluster();
  const producer = new WireMessageProducer(new WireProducer(clusterLayout(cluster), { clientId: 'ingest', security: config.kafkaSecurity }), cluster);
  const publisher = new KafkaEventPublisher(cluster, producer, config.topicPrefix, topics, deadLetterTopic, (r) => {
    metrics.errors.inc({ kind: r.errorType });
    metrics.deadLetters.inc({ table: r.table, reason: r.errorType });
    const why = r.errorType === 'event_invalid' ? 'it breaks the change-event contract (a decoding bug: report it, then re-snapshot the table once fixed)' : 'Kafka cannot carry it';
    log.error(`event parked in the dead-letter topic: ${why}; the document keeps its previous version`, { topic: r.topic, deadLetterTopic, key: r.event.key, lsn: r.event.lsn, commitLsn: r.event.commitLsn, reason: r.reason });
  }, traces);
  const source = new PgChangeSource(config.databaseUrl, slot, config.publicationName, log.child('source'), onFatal);
  const windows = new ChunkWindows(slot);
  let lastConfirmedCommitAt = new Date();
  const batcher = new CommitBatcher(
    publisher,
    async (lsn, commitTime) => {
      await source.confirm(lsn);
      metrics.confirmedLsn.set(Number(lsn));
      if (commitTime) lastConfirmedCommitAt = commitTime;
      windows.confirmed(lsn);
    },
    {
      maxEvents: config.batchMaxEvents,
      flushIntervalMs: config.flushIntervalMs,
      onSent: (events, ms) => {
        metrics.produceSeconds.observe(ms / 1000);
        for (const c of countByTableAndOp(events)) metrics.events.inc(c.labels, c.n);
      },
      onFatal,
      // A broker restart is waited out (slot lag grows meanwhile) rather than ending the process.
      retryWhile: isKafkaUnavailable,
      onRetry: () => metrics.errors.inc({ kind: 'kafka_unavailable' }),
    },
    log.child('batcher'),
  );
  metrics.setPendingSource(() => batcher.pendingEvents());
  const background: Array<{ stop(): Promise<void> | void }> = [];
  const snapshots = createSnapshotRunner({
    connectionString: config.databaseUrl,
    slot,
    chunkRows: config.snapshotChunkRows,
    tables: tables.map((t) => `${t.schema}.${t.table}`),
    // Only the tables an index is the root of: a related table's rows are read by the indexer's
    // rebuild of each root document, so copying them through Kafka would be read for nothing.
    copies: (table) => roots.has(table),
    windows,
    log: log.child('snapshot'),
    onFatal,
    progress: {
      onTotal: (table, n) => metrics.snapshotRowsTotal.set({ table }, n),
      onDone: (table, n) => metrics.snapshotRowsDone.set({ table }, n),
      onRate: (table, rowsPerSec, etaSec) => {
        metrics.snapshotRowsPerSecond.set({ table }, rowsPerSec);
        metrics.snapshotEtaSeconds.set({ table }, etaSec);
      },
    },
  });
  let closing: Promise<void> | undefined;
  let lease: SlotLease | undefined;
  let role: 'starting' | 'standby' | 'active' = 'starting';
  metrics.active.set(0);
  const stopStarting = new AbortController();
  // A broker that is not up yet (or restarting) is waited for, as an outage is once streaming.
  const untilKafka = <T>(step: () => Promise<T>): Promise<T> => untilKafkaAvailable(step, { what: "ingest's start", log, signal: stopStarting.signal });

  /** Streams from the existing slot, or creates one when that cannot hide a gap (slot-guard.ts). */
  async function prepareSlot(): Promise<void> {
    const row = await readSlot(db, slot);
    const ranBefore = row !== undefined || (await hasState(db, slot)) || (await untilKafka(() => topicsWithEvents(cluster, topics))).length > 0;
    const decision = decideSlot(slot, row, ranBefore, config.resnapshot);
    if (decision.action === 'use') return;
    if (decision.drop) await dropSlot(db, slot);
    const lsn = await createSlotReporting(db, slot, { connectionString: config.databaseUrl, log });
    await resetState(db, slot); // a new slot has seen nothing: every table is copied
    await supersedeRequests(db, slot, 'superseded: a new slot copied every table');
    log.info('created replication slot; every table will be snapshotted', { slot, lsn, reason: decision.reason });
  }

  // Queries the stream handler makes (a moved row's columns, the table descriptions), on connections
  // of their own: the main one is busy with heartbeats on a timer.
  const streamDb = new Pool({ connectionString: config.databaseUrl, max: 2 });
  streamDb.on('error', (err) => log.warn('an idle Postgres connection of the stream failed', { err }));
  const schema = createSchemaWatch({
    db: streamDb, slot, pipeline, metrics, log: log.child('schema'),
    copyAgain: () => {
      snapshots.request();
      return snapshots.idle();
    },
  });

  /** Everything after the lease: setup, then the stream on the lease's connection and the background tasks. */
  async function startActive(held: SlotLease): Promise<void> {
    const keys = await checkTables(db, tables);
    await ensurePublication(db, config.publicationName, tables);
    await ensureStateTable(db);
    await ensureRequestTable(db);
    await prepareSlot();
    await addTables(db, slot, tables.map((t) => `${t.schema}.${t.table}`));
    await schema.load();
    await untilKafka(async () => {
      const layout = { replication: config.topicReplication, log };
      warnPartitionMismatch(await ensureTopics(kafka, topics, config.topicPartitions, layout), config.topicPartitions, log);
      await ensureTopics(kafka, [deadLetterTopic], 1, layout); // as the indexer creates it
      await publisher.connect();
    });
    await source.start(createStreamHandler({
      slot, tables, keys, batcher, windows, decode: deps.decode, traces,
      readRow: pgCurrentRowReader(streamDb),
      onRelation: (r) => schema.observe(r),
      onMovedRow: (table, filled, gone) => {
        if (gone) log.info('a row moved to a new key is gone by now; a later change in the stream removes its document', { table });
        else metrics.movedRowReads.inc({ table }, filled);
      },
    }), held.client);
    const pending = await pendingTables(db, slot); // before the heartbeat timer shares the connection
    if (config.heartbeatIntervalMs > 0) {
      const hb: Periodic = every(config.heartbeatIntervalMs, async () => {
        await emitHeartbeat(db, slot);
        metrics.heartbeats.inc();
      }, (err) => {
        metrics.errors.inc({ kind: 'heartbeat_failed' });
        log.warn('heartbeat failed; retrying at the next interval', { err });
      });
      background.push(hb);
    }
    background.push(startSlotLagMonitor({
      connectionString: config.databaseUrl,
      slot,
      intervalMs: config.slotLagIntervalMs,
      thresholds: { warnBytes: config.slotLagWarnBytes, warnSeconds: config.heartbeatIntervalMs > 0 ? config.slotLagWarnSeconds : undefined },
      lastConfirmedCommitAt: () => lastConfirmedCommitAt,
      metrics,
      log: log.child('slot-lag'),
      onFatal,
    }));
    // Re-snapshot requests (npm run resnapshot, reconcile's repair) are rows in the source database: polled, so one
    // written while ingest was down or restarting is picked up too.
    background.push(every(config.resnapshotPollMs, async () => {
      if (await hasPendingRequests(streamDb, slot)) snapshots.request();
    }, (err) => log.warn('checking for re-snapshot requests failed; retrying at the next interval', { err })));
    if (config.reconcileIntervalMs > 0) background.unshift(startReconcileJob({ config, pipeline, metrics, log: log.child('reconcile') }));
    background.unshift(snapshots); // stopped first: its chunk waits for the stream
    if (pending.length) snapshots.request();
  }

  return {
    /** Why the index is not what the pipeline config asks for right now (schema changes); empty when it is. */
    problems: (): SchemaProblem[] => schema.problems(),
    /** standby: another ingest holds the slot's lease (slot-lease.ts) and this one waits for it. */
    role: () => role,
    /**
     * Waits for the slot's lease (as a standby while another ingest holds it), then sets up and
     * streams. Resolves false when close() came first, while standby.
     */
    async start(): Promise<boolean> {
      lease = await acquireSlotLease({
        connectionString: config.databaseUrl, slot, pollMs: config.standbyPollMs, log: log.child('lease'), signal: stopStarting.signal,
        onStandby: () => (role = 'standby'),
        onLost: onFatal,
      });
      if (!lease) return false;
      role = 'active';
      metrics.active.set(1);
      log.info('active: holds the slot lease', { slot, pid: lease.pid });
      try {
        await startActive(lease);
      } catch (err) {
        // A start that fails frees the slot for a standby (or this process's next attempt).
        await lease.release();
        role = 'starting';
        metrics.active.set(0);
        throw err;
      }
      return true;
    },
    /** Resolves when no snapshot runs (the one started at `start`, or one a schema change asked for); for tests and tools. */
    snapshotDone: (): Promise<void> => snapshots.idle(),
    /** Sends what is complete, confirms it, and stops; safe to call twice. Unfinished transactions are re-read after restart. */
    close(): Promise<void> {
      shuttingDown = true;
      stopStarting.abort();
      closing ??= (async () => {
        for (const b of background.splice(0)) await Promise.resolve(b.stop()).catch((err: unknown) => log.warn('stopping a background task failed', { err }));
        // Ending the lease's session ends the stream on it; a standby takes over from the confirmed position.
        await lease?.release();
        metrics.active.set(0);
        await source.close();
        await batcher.close().catch((err: unknown) => log.warn('final flush failed', { err }));
        await publisher.close();
        await streamDb.end().catch(() => undefined);
      })();
      return closing;
    },
  };
}
