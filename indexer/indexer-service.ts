import type { Client } from '@elastic/elasticsearch';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import pLimit from 'p-limit';
import type { IndexerConfig } from '../config';
import { sourceTables, type PipelineConfig } from '../config/pipeline';
import { Pool } from 'pg';
import { topicFor } from '../core/change-event';
import { createJoinedRebuilder, type JoinedRebuilder } from './join/joined-rebuilder';
import { checkRelations } from './join/check-relations';
import { joinedIndexes } from './join/rebuild-requests';
import { ConfigError, PipelineError, errorMessage } from '../core/errors';
import { ensureTopics, warnPartitionMismatch } from '../core/kafka';
import { isKafkaUnavailable, untilKafkaAvailable } from '../core/kafka-unavailable';
import type { Logger } from '../core/logger';
import { backoffDelayMs, sleep } from '../core/retry';
import { ensureStateIndex } from '../core/watermark-store';
import { prepareBatch, writeBatch, type BatchDeps, type PreparedBatch } from './batch-processor';
import { DeadLetterPublisher } from './dead-letters';
import { consumerLag } from './lag';
import { PartitionWriter } from './partition-writer';
import { ensureIndex, ensureTemplate } from './mappings';
import type { IndexerMetrics } from './metrics';
import { EsCurrentSource } from './sink/current-source';
import { EsDocumentSink } from './sink/es-document-sink';
import { applyTruncate } from './truncate';
import { PositionTracker } from './watermark/positions';
import { WatermarkPublisher } from './watermark/publisher';

export interface IndexerDeps {
  config: Readonly<IndexerConfig>;
  pipeline: PipelineConfig;
  kafka: Kafka;
  es: Client;
  metrics: IndexerMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
  /** Put the index templates of the configured indexes (default true; a reindex's replay writes a concrete index, not an alias). */
  manageTemplates?: boolean;
}

/**
 * Kafka → Elasticsearch. Offsets are committed only after the batch is durable or dead-lettered;
 * a periodic task refreshes what was written and publishes the freshness watermark.
 */
export function createIndexer(deps: IndexerDeps) {
  const { config, pipeline, kafka, es, metrics, log } = deps;
  const indexesByTopic = new Map<string, string[]>();
  // A joined index is fed by the topic of every table its documents read (its watermark is the minimum over all of them).
  for (const spec of pipeline.indexes) {
    for (const table of sourceTables(spec)) {
      const topic = topicFor(config.topicPrefix, table);
      indexesByTopic.set(topic, [...(indexesByTopic.get(topic) ?? []), spec.name]);
    }
  }
  const topics = [...indexesByTopic.keys()];
  const dlq = new DeadLetterPublisher(kafka, `${config.topicPrefix}.dead-letters`);
  const sink = new EsDocumentSink(es, log.child('sink'), {
    maxUnknownRetries: config.maxRetries,
    onRetry: (n) => metrics.retries.inc(n),
    onBulk: (docs, ms, bytes) => {
      metrics.bulkSeconds.observe(ms / 1000);
      metrics.batchSize.observe(docs);
      metrics.bulkBytes.observe(bytes);
    },
    onPaused: (delta) => metrics.pausedRequests.inc(delta),
  });
  const current = new EsCurrentSource(es, log.child('current'));
  const limit = pLimit(config.concurrency);
  const heartbeatIntervalMs = Math.floor(config.sessionTimeoutMs / 10);
  const consumer: Consumer = kafka.consumer({ groupId: config.groupId, maxWaitTimeInMs: config.batchMaxWaitMs, sessionTimeout: config.sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs, maxBytesPerPartition: config.fetchMaxBytesPerPartition });
  const admin: Admin = kafka.admin();
  const partitionCounts = new Map<string, number>();
  const tracker = new PositionTracker();
  const publisher = new WatermarkPublisher({
    es, tracker, indexesByTopic, intervalMs: config.watermarkIntervalMs, log: log.child('watermark'),
    beforeRefresh: (dirty) => rebuilder?.beforeRefresh(dirty) ?? { indexes: [], after: () => undefined },
    partitionCount: (t) => partitionCounts.get(t),
    onSearchable: (index, seconds) => metrics.commitToSearchable.observe({ index }, seconds),
    onPublished: (positions) => {
      const oldest = new Map<string, number>();
      for (const p of positions) {
        const ms = p.commitTs ? Date.parse(p.commitTs) : NaN;
        if (Number.isFinite(ms) && ms < (oldest.get(p.index) ?? Infinity)) oldest.set(p.index, ms);
      }
      metrics.sources.watermarkCommitMs.clear();
      for (const [index, ms] of oldest) metrics.sources.watermarkCommitMs.set(index, ms);
    },
  });
  const refreshPartitionCounts = async (): Promise<void> => {
    const meta = await admin.fetchTopicMetadata({ topics });
    for (const t of meta.topics) partitionCounts.set(t.name, t.partitions.length);
  };

  const joined = joinedIndexes(pipeline.indexes);
  let joinDb: Pool | undefined;
  let rebuilder: JoinedRebuilder | undefined;
  /** Joined indexes read their documents from Postgres: checked at start, refusing a config that does not match the database. */
  const startJoins = async (): Promise<JoinedRebuilder | undefined> => {
    if (!joined.length) return undefined;
    if (!config.databaseUrl) throw new ConfigError(`indexes ${joined.map((i) => i.name).join(', ')} have relations: set INDEXER_DATABASE_URL (or DATABASE_URL) to the Postgres database their tables live in`, { variable: 'INDEXER_DATABASE_URL' });
    // Connections: a rebuild's batches in flight (INDEXER_JOIN_CONNECTIONS), or one per partition
    // processed at once (its walk-up or document query) and one more, whichever is more: waiting
    // for the pool added to every batch.
    joinDb = new Pool({ connectionString: config.databaseUrl, max: Math.max(config.joinConnections, Math.min(config.partitionsConcurrency, 8) + 1) });
    joinDb.on('error', (err) => log.warn('joined documents: an idle Postgres connection failed', { err: errorMessage(err) }));
    const catalog = await checkRelations(joinDb, joined);
    return createJoinedRebuilder({
      db: joinDb, es, catalog, indexes: joined, batchKeys: config.joinBatchKeys, batchesInFlight: config.joinBatchesInFlight, log: log.child('join'),
      exclusive: (index) => ownsEveryPartition(index),
      onRebuilt: (index, n) => metrics.joinRebuilds.inc({ index }, n),
      onFanOut: (index, roots) => metrics.joinFanOut.observe({ index }, roots),
    });
  };
  const writer = new PartitionWriter();
  const closing = new AbortController();
  /** Partitions of the current assignment: a write finishing after its partition moved away must not publish its position. */
  let assigned: Record<string, number[]> = {};
  /**
   * This member holds every partition of every topic the index reads, so every write to it comes
   * from this process (the refs it wrote can stand in for a refresh: join/written-refs.ts).
   */
  const ownsEveryPartition = (index: string): boolean => {
    const spec = joined.find((i) => i.name === index);
    if (!spec) return false;
    return sourceTables(spec).every((t) => {
      const topic = topicFor(config.topicPrefix, t);
      const n = partitionCounts.get(topic);
      const mine = new Set(assigned[topic] ?? []);
      return n !== undefined && mine.size >= n && Array.from({ length: n }, (_, p) => p).every((p) => mine.has(p));
    });
  };
  const batchDeps = (keepAlive: () => Promise<void>): BatchDeps => ({
    indexes: pipeline.indexes,
    sink,
    deadLetters: async (records) => {
      await dlq.publish(records);
      for (const r of records) metrics.deadLetters.inc({ reason: r.errorType });
    },
    truncate: async (index, event, o) => {
      const r = await applyTruncate(index, event.commitLsn, event.lsn, o, { es, sink, pageSize: config.batchMaxDocs, keepAlive });
      metrics.truncates.inc({ index });
      log.info('truncate applied', { ...o, index, commitLsn: event.commitLsn, deletesSent: r.deleteRequests });
      return r.dead;
    },
    rebuild: rebuilder && ((requests, write) => rebuilder!.rebuild(requests, write)),
    maxDocsPerBulk: config.batchMaxDocs,
    maxBytesPerBulk: config.batchMaxBytes,
    limit,
    keepAlive,
    readCurrent: async (wanted) => {
      for (const w of wanted) metrics.unchangedFetched.inc({ index: w.index });
      return current.read(wanted, keepAlive);
    },
    onUnresolved: (ops) => {
      for (const op of ops) metrics.unchangedUnresolved.inc({ index: op.index });
      log.warn('indexed documents without unchanged TOAST fields: neither the batch nor Elasticsearch held their current value (e.g. the document was deleted or the topic no longer holds its first change). ALTER TABLE … REPLICA IDENTITY FULL makes Postgres send the whole row and avoids it', {
        topic: ops[0]?.origin.topic, partition: ops[0]?.origin.partition, documents: ops.length, sample: ops.slice(0, 5).map((o) => ({ index: o.index, id: o.id, fields: o.unresolved, commitLsn: o.version })),
      });
    },
  });
  /** Writes a prepared batch, records its position, then commits its offset: durable or dead-lettered first. */
  const writeAndCommit = async (prepared: PreparedBatch, last: string, heartbeat: () => Promise<void>): Promise<void> => {
    const { topic, partition } = prepared;
    const ticker = setInterval(() => heartbeat().catch((err: unknown) => log.warn('heartbeat failed', { topic, partition, err: errorMessage(err) })), heartbeatIntervalMs);
    try {
      const result = await writeBatch(prepared, batchDeps(heartbeat));
      if (assigned[topic]?.includes(partition)) {
        // Dirty indexes before the position: the watermark task takes both together.
        tracker.markWritten(result.written);
        // What it wrote too: cache generations move on data, not on heartbeats (watermark/positions.ts).
        if (result.position) tracker.record(topic, partition, result.position, result.written);
      }
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
      metrics.docs.inc({ topic }, result.ops);
    } finally {
      clearInterval(ticker);
    }
  };

  let runConsumer: () => Promise<void> = async () => undefined;
  /** kafkajs gave the consumer up while Kafka was away: join the group again once it answers. */
  const rejoin = (cause: unknown): void => {
    log.warn('Kafka unavailable: the consumer stopped; joining the group again (nothing is committed meanwhile)', { err: errorMessage(cause) });
    void sleep(backoffDelayMs(0, { initialMs: 1_000, maxMs: 30_000 }), closing.signal)
      .then(() => untilKafkaAvailable(async () => {
        if (closing.signal.aborted) return;
        try {
          await consumer.connect();
          await runConsumer();
        } catch (err) {
          // A failed start leaves kafkajs believing it runs: stop it, or the next run() is ignored.
          await consumer.disconnect().catch(() => undefined);
          throw err;
        }
      }, { what: "the indexer's consumer", log, signal: closing.signal }))
      .catch((err: unknown) => {
        if (!closing.signal.aborted) deps.onFatal(err);
      });
  };

  return {
    consumer,
    tracker,
    publisher,
    async start(): Promise<void> {
      rebuilder = await startJoins();
      for (const spec of pipeline.indexes) {
        if (deps.manageTemplates ?? true) await ensureTemplate(es, spec);
        // Documents keep flowing into the live index; the new mapping applies only once a
        // reindex builds the next generation and swaps the alias (writes stay valid meanwhile:
        // dynamic: false keeps unmapped fields in _source).
        if ((await ensureIndex(es, spec)) === 'mapping-changed') log.warn(`the pipeline config maps this index differently from the live index; ${config.autoReindex ? 'a background reindex applies it (INDEXER_AUTO_REINDEX)' : 'run `npm run reindex -- <index>` to apply it'}`, { index: spec.name });
      }
      await ensureStateIndex(es, config.elasticsearch.internalIndex);
      // The same partition count as ingest's: when the indexer starts first, the topic it creates is
      // the one CDC and the intake write to (a 1-partition topic put every key on partition 0).
      // A broker that is not up yet (or restarting) is waited for, as an outage is once running.
      await untilKafkaAvailable(async () => {
        const layout = { replication: config.topicReplication, log };
        warnPartitionMismatch(await ensureTopics(kafka, topics, config.topicPartitions, layout), config.topicPartitions, log);
        await ensureTopics(kafka, [dlq.topic], 1, layout);
        await admin.connect();
        await refreshPartitionCounts();
        await dlq.connect();
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: true });
      }, { what: "the indexer's start", log, signal: closing.signal });
      metrics.sources.consumerLag = () => consumerLag(admin, config.groupId, topics);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return; // kafkajs joins again by itself
        // kafkajs gives up for good when no broker answers the coordinator lookup: a Kafka outage,
        // not a fault of ours. Join again with backoff instead of exiting (as ingest rides it out).
        if (!closing.signal.aborted && isKafkaUnavailable(payload.error)) rejoin(payload.error);
        else deps.onFatal(payload.error);
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assigned = payload.memberAssignment;
        tracker.retain(payload.memberAssignment);
        // The indexes are refreshed only by their indexers (mappings.ts BACKSTOP_REFRESH_INTERVAL):
        // what a previous owner of these partitions wrote but did not refresh is refreshed before
        // a position of ours, even one moved by heartbeats alone, is published over it.
        for (const topic of Object.keys(payload.memberAssignment)) tracker.markWritten(indexesByTopic.get(topic) ?? []);
        // Another member may have written the joined indexes meanwhile: their next lookups refresh first.
        rebuilder?.reset();
        refreshPartitionCounts().catch((err: unknown) => log.warn('reading partition counts failed', { err: errorMessage(err) }));
      });
      runConsumer = () => consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConcurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || closing.signal.aborted || batch.messages.length === 0) return;
          const { topic, partition } = batch;
          // Heartbeats keep flowing while this waits for the partition's previous batch, so the
          // group does not evict this member while Elasticsearch is slow or retried.
          const ticker = setInterval(() => heartbeat().catch((err: unknown) => log.warn('heartbeat failed', { topic, partition, err: errorMessage(err) })), heartbeatIntervalMs);
          try {
            const failures = writer.failuresOf(topic, partition);
            if (failures) await sleep(backoffDelayMs(failures - 1, { initialMs: 300, maxMs: 30_000 }), closing.signal);
            // Decoded while the previous batch is still being written.
            const prepared = prepareBatch(topic, partition, batch.messages, pipeline.indexes);
            if (!(await writer.previous(topic, partition)) || !isRunning() || isStale() || closing.signal.aborted) return; // read again from the failed batch
            const first = batch.messages[0]!.offset;
            const last = batch.lastOffset();
            // The next fetch goes on after this batch; the offset is committed once it is written.
            resolveOffset(last);
            const messages = batch.messages.length;
            metrics.inFlightMessages.inc(messages);
            writer.start(topic, partition, () => writeAndCommit(prepared, last, heartbeat).finally(() => metrics.inFlightMessages.dec(messages)), (err) => {
              // One that retrying cannot fix stops us; anything else is read again from this batch, after a backoff.
              if (err instanceof PipelineError && !err.retriable) return deps.onFatal(err);
              if (closing.signal.aborted) return;
              log.warn('writing a batch failed; reading the partition again from it', { topic, partition, offset: first, err: errorMessage(err) });
              try {
                consumer.seek({ topic, partition, offset: first });
              } catch (seekErr) {
                log.warn('could not rewind the partition; it is read again after a restart', { topic, partition, err: errorMessage(seekErr) });
              }
            });
            await heartbeat();
          } catch (err) {
            // A rebalance: finish what was handed over before the group moves partitions elsewhere.
            if (rebalancing(err)) await writer.drain();
            if (err instanceof PipelineError && !err.retriable) deps.onFatal(err);
            throw err;
          } finally {
            clearInterval(ticker);
          }
        },
      });
      await runConsumer();
      publisher.start();
      log.info('indexer consuming', { topics, groupId: config.groupId });
    },
    /** Stops fetching, finishes and commits the batches handed over, publishes the last watermark, then disconnects. */
    async close(): Promise<void> {
      closing.abort();
      try {
        consumer.pause(topics.map((topic) => ({ topic })));
      } catch {
        // not running: nothing was handed over
      }
      await writer.drain();
      await consumer.disconnect();
      await publisher.stop();
      await publisher.tick();
      await dlq.close();
      await admin.disconnect();
      await joinDb?.end().catch(() => undefined);
    },
  };
}

/** kafkajs's own test for the errors after which the member joins the group again. */
function rebalancing(err: unknown): boolean {
  const type = (err as { type?: string } | undefined)?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION';
}
