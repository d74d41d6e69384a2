import type { Client } from '@elastic/elasticsearch';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import pLimit from 'p-limit';
import type { IndexerConfig } from '../config';
import type { PipelineConfig } from '../config/pipeline';
import { topicFor } from '../core/change-event';
import { PipelineError, errorMessage } from '../core/errors';
import { ensureTopics } from '../core/kafka';
import type { Logger } from '../core/logger';
import { ensureStateIndex } from '../core/watermark-store';
import { processBatch } from './batch-processor';
import { DeadLetterPublisher } from './dead-letters';
import { consumerLag } from './lag';
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
  for (const spec of pipeline.indexes) {
    const topic = topicFor(config.topicPrefix, spec.source);
    indexesByTopic.set(topic, [...(indexesByTopic.get(topic) ?? []), spec.name]);
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
    partitionCount: (t) => partitionCounts.get(t),
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

  return {
    consumer,
    tracker,
    publisher,
    async start(): Promise<void> {
      for (const spec of pipeline.indexes) {
        if (deps.manageTemplates ?? true) await ensureTemplate(es, spec);
        // Documents keep flowing into the live index; the new mapping applies only once a
        // reindex builds the next generation and swaps the alias (writes stay valid meanwhile:
        // dynamic: false keeps unmapped fields in _source).
        if ((await ensureIndex(es, spec)) === 'mapping-changed') log.warn('the pipeline config maps this index differently from the live index; run `npm run reindex -- <index>` to apply it', { index: spec.name });
      }
      await ensureStateIndex(es);
      await ensureTopics(kafka, [...topics, dlq.topic], 1);
      await admin.connect();
      await refreshPartitionCounts();
      metrics.sources.consumerLag = () => consumerLag(admin, config.groupId, topics);
      await dlq.connect();
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) deps.onFatal(payload.error);
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        tracker.retain(payload.memberAssignment);
        refreshPartitionCounts().catch((err: unknown) => log.warn('reading partition counts failed', { err: errorMessage(err) }));
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConcurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const origin = { topic: batch.topic, partition: batch.partition };
          metrics.inFlightMessages.inc(batch.messages.length);
          // Heartbeats keep flowing while Elasticsearch is slow or retried, so the group does not
          // evict this member and hand its partitions to another one mid-write.
          const ticker = setInterval(() => heartbeat().catch((err: unknown) => log.warn('heartbeat failed', { ...origin, err: errorMessage(err) })), heartbeatIntervalMs);
          try {
            const result = await processBatch(batch.topic, batch.partition, batch.messages, {
              indexes: pipeline.indexes,
              sink,
              deadLetters: async (records) => {
                await dlq.publish(records);
                for (const r of records) metrics.deadLetters.inc({ reason: r.errorType });
              },
              truncate: async (index, event, o) => {
                const r = await applyTruncate(index, event.commitLsn, event.lsn, o, { es, sink, pageSize: config.batchMaxDocs, keepAlive: heartbeat });
                metrics.truncates.inc({ index });
                log.info('truncate applied', { ...o, index, commitLsn: event.commitLsn, deletesSent: r.deleteRequests });
                return r.dead;
              },
              maxDocsPerBulk: config.batchMaxDocs,
              maxBytesPerBulk: config.batchMaxBytes,
              limit,
              keepAlive: heartbeat,
              readCurrent: async (wanted) => {
                for (const w of wanted) metrics.unchangedFetched.inc({ index: w.index });
                return current.read(wanted, heartbeat);
              },
              onUnresolved: (ops) => {
                for (const op of ops) metrics.unchangedUnresolved.inc({ index: op.index });
                log.warn('indexed documents without unchanged TOAST fields: neither the batch nor Elasticsearch held their current value (e.g. the document was deleted or the topic no longer holds its first change). ALTER TABLE … REPLICA IDENTITY FULL makes Postgres send the whole row and avoids it', {
                  ...origin, documents: ops.length, sample: ops.slice(0, 5).map((o) => ({ index: o.index, id: o.id, fields: o.unresolved, commitLsn: o.version })),
                });
              },
            });
            // Dirty indexes before the position: the watermark task takes both together.
            tracker.markWritten(result.written);
            // What it wrote too: cache generations move on data, not on heartbeats (watermark/positions.ts).
            if (result.position) tracker.record(batch.topic, batch.partition, result.position, result.written);
            const last = batch.lastOffset();
            await consumer.commitOffsets([{ ...origin, offset: (BigInt(last) + 1n).toString() }]);
            resolveOffset(last);
            metrics.docs.inc({ topic: batch.topic }, result.ops);
            await heartbeat();
          } catch (err) {
            // kafkajs would restart the consumer on any error; one that retrying cannot fix stops us.
            if (err instanceof PipelineError && !err.retriable) deps.onFatal(err);
            throw err;
          } finally {
            clearInterval(ticker);
            metrics.inFlightMessages.dec(batch.messages.length);
          }
        },
      });
      publisher.start();
      log.info('indexer consuming', { topics, groupId: config.groupId });
    },
    /** Drains the batch in progress, publishes the last watermark, then disconnects. */
    async close(): Promise<void> {
      await consumer.disconnect();
      await publisher.stop();
      await publisher.tick();
      await dlq.close();
      await admin.disconnect();
    },
  };
}
