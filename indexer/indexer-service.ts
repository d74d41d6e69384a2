import type { Client } from '@elastic/elasticsearch';
import pLimit from 'p-limit';
import type { IndexerConfig } from '../config';
import { sourceTables, type PipelineConfig } from '../config/pipeline';
import { Pool } from 'pg';
import { topicFor } from '../core/change-event';
import { createJoinedRebuilder, type JoinedRebuilder } from './join/joined-rebuilder';
import { checkRelations } from './join/check-relations';
import { joinedIndexes } from './join/rebuild-requests';
import { ConfigError, errorMessage } from '../core/errors';
import { ensureTopics, warnPartitionMismatch } from '../core/kafka';
import type { KafkaClient } from '../core/kafka-client';
import { consumerLag, partitionCounts as readPartitionCounts } from '../core/kafka-cluster';
import { untilKafkaAvailable } from '../core/kafka-unavailable';
import type { Logger } from '../core/logger';
import { ensureStateIndex } from '../core/watermark-store';
import { prepareBatch, writeBatch, type BatchDeps, type PreparedBatch } from './batch-processor';
import { createPartitionConsumer } from './consume/partition-consumer';
import { DeadLetterPublisher } from './dead-letters';
import { ensureIndex, ensureTemplate } from './mappings';
import type { IndexerMetrics } from './metrics';
import { EsCurrentSource } from './sink/current-source';
import { EsDocumentSink } from './sink/es-document-sink';
import { applyTruncate } from './truncate';
import { PositionTracker } from './watermark/positions';
import { SearchableSpans } from './watermark/searchable-spans';
import { noTracing, type Tracing } from '../core/tracing';
import { WatermarkPublisher } from './watermark/publisher';

export interface IndexerDeps {
  config: Readonly<IndexerConfig>;
  pipeline: PipelineConfig;
  kafka: KafkaClient;
  es: Client;
  metrics: IndexerMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
  /** Put the index templates of the configured indexes (default true; a reindex's replay writes a concrete index, not an alias). */
  manageTemplates?: boolean;
  /** Spans of batches carrying sampled changes, bulk requests and refreshes (core/tracing.ts). Default: off. */
  tracing?: Tracing;
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
  const dlq = new DeadLetterPublisher(kafka.producer(), `${config.topicPrefix}.dead-letters`);
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
  const group = kafka.groupConsumer({ groupId: config.groupId, maxWaitTimeMs: config.batchMaxWaitMs, sessionTimeoutMs: config.sessionTimeoutMs, heartbeatIntervalMs, maxBytesPerPartition: config.fetchMaxBytesPerPartition });
  // Held for the partition counts and the lag metric; connects on first use.
  const cluster = kafka.cluster();
  const partitionCounts = new Map<string, number>();
  const tracker = new PositionTracker();
  const tracing = deps.tracing ?? noTracing;
  const searchable = tracing.on ? new SearchableSpans(tracing) : undefined;
  const publisher = new WatermarkPublisher({
    es, tracker, indexesByTopic, spans: searchable, intervalMs: config.watermarkIntervalMs, log: log.child('watermark'),
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
    for (const [t, n] of await readPartitionCounts(cluster, topics)) partitionCounts.set(t, n);
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
      const mine = new Set(partitions.assignment[topic] ?? []);
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
    tracing,
    searchable: searchable && ((spans) => searchable.add(spans)),
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
  /** The indexing of a batch: its offset is committed by the partition consumer once this resolves. */
  const write = async (prepared: PreparedBatch, keepAlive: () => Promise<void>): Promise<void> => {
    const { topic, partition } = prepared;
    const result = await writeBatch(prepared, batchDeps(keepAlive));
    if (partitions.owns(topic, partition)) {
      // Dirty indexes before the position: the watermark task takes both together.
      tracker.markWritten(result.written);
      // What it wrote too: cache generations move on data, not on heartbeats (watermark/positions.ts).
      if (result.position) tracker.record(topic, partition, result.position, result.written);
    }
    metrics.docs.inc({ topic }, result.ops);
  };
  /** Ends a start still waiting for Kafka when close() comes first. */
  const closing = new AbortController();
  const partitions = createPartitionConsumer({
    consumer: group, topics, log, onFatal: deps.onFatal,
    handler: { prepare: (topic, partition, messages) => prepareBatch(topic, partition, messages, pipeline.indexes), write },
    partitionsConcurrently: config.partitionsConcurrency,
    heartbeatIntervalMs,
    inFlight: { inc: (n) => metrics.inFlightMessages.inc(n), dec: (n) => metrics.inFlightMessages.dec(n) },
    onAssignment: (assignment) => {
      tracker.retain(assignment);
      // The indexes are refreshed only by their indexers (mappings.ts BACKSTOP_REFRESH_INTERVAL):
      // what a previous owner of these partitions wrote but did not refresh is refreshed before
      // a position of ours, even one moved by heartbeats alone, is published over it.
      for (const topic of Object.keys(assignment)) tracker.markWritten(indexesByTopic.get(topic) ?? []);
      // Another member may have written the joined indexes meanwhile: their next lookups refresh first.
      rebuilder?.reset();
      refreshPartitionCounts().catch((err: unknown) => log.warn('reading partition counts failed', { err: errorMessage(err) }));
    },
  });

  return {
    /** The group member, for tests and benches that watch it (core/kafkajs-group-consumer.ts kafkajsConsumerOf: the client's own). */
    group,
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
        await refreshPartitionCounts();
        await dlq.connect();
        await partitions.connect();
      }, { what: "the indexer's start", log, signal: closing.signal });
      metrics.sources.consumerLag = () => consumerLag(cluster, config.groupId, topics);
      await partitions.run();
      publisher.start();
      log.info('indexer consuming', { topics, groupId: config.groupId });
    },
    /** Stops fetching, finishes and commits the batches handed over, publishes the last watermark, then disconnects. */
    async close(): Promise<void> {
      closing.abort();
      await partitions.close();
      await publisher.stop();
      await publisher.tick();
      await dlq.close();
      await cluster.close();
      await joinDb?.end().catch(() => undefined);
    },
  };
}
