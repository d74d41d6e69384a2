import type { Client } from '@elastic/elasticsearch';
import type { Consumer, Kafka } from 'kafkajs';
import pLimit from 'p-limit';
import type { IndexerConfig } from '../config';
import type { PipelineConfig } from '../config/pipeline';
import { topicFor } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import type { Logger } from '../core/logger';
import { processBatch } from './batch-processor';
import { DeadLetterPublisher } from './dead-letters';
import { ensureIndex } from './mappings';
import type { IndexerMetrics } from './metrics';
import { EsDocumentSink } from './sink/es-document-sink';

export interface IndexerDeps {
  config: Readonly<IndexerConfig>;
  pipeline: PipelineConfig;
  kafka: Kafka;
  es: Client;
  metrics: IndexerMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
}

/** Kafka → Elasticsearch. Offsets are committed only after the batch is durable or dead-lettered. */
export function createIndexer(deps: IndexerDeps) {
  const { config, pipeline, kafka, es, metrics, log } = deps;
  const topics = [...new Set(pipeline.indexes.map((i) => topicFor(config.topicPrefix, i.source)))];
  const dlq = new DeadLetterPublisher(kafka, `${config.topicPrefix}.dead-letters`);
  const sink = new EsDocumentSink(es, log.child('sink'), {
    maxUnknownRetries: config.maxRetries,
    onRetry: (n) => metrics.retries.inc(n),
    onBulk: (docs, ms) => {
      metrics.bulkSeconds.observe(ms / 1000);
      metrics.batchSize.observe(docs);
    },
  });
  const limit = pLimit(config.concurrency);
  const consumer: Consumer = kafka.consumer({ groupId: config.groupId, maxWaitTimeInMs: 100, sessionTimeout: 30_000, heartbeatInterval: 3_000 });

  return {
    async start(): Promise<void> {
      for (const spec of pipeline.indexes) await ensureIndex(es, spec);
      await ensureTopics(kafka, [...topics, dlq.topic], 1);
      await dlq.connect();
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) deps.onFatal(payload.error);
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const result = await processBatch(batch.topic, batch.partition, batch.messages, {
            indexes: pipeline.indexes,
            sink,
            deadLetters: async (records) => {
              await dlq.publish(records);
              for (const r of records) metrics.deadLetters.inc({ reason: r.errorType });
            },
            maxDocsPerBulk: config.batchMaxDocs,
            limit,
            keepAlive: heartbeat,
          });
          const last = batch.lastOffset();
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          resolveOffset(last);
          metrics.docs.inc({ topic: batch.topic }, result.ops);
          await heartbeat();
        },
      });
      log.info('indexer consuming', { topics, groupId: config.groupId });
    },
    async close(): Promise<void> {
      await consumer.disconnect();
      await dlq.close();
    },
  };
}
