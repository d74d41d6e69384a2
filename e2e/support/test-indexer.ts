import type { Client } from '@elastic/elasticsearch';
import { loadIndexerConfig } from '../../config';
import { parsePipelineConfig } from '../../config/pipeline';
import { createKafka } from '../../core/kafka';
import { silentLogger, type Logger } from '../../core/logger';
import { createIndexer } from '../../indexer/indexer-service';
import { createIndexerMetrics } from '../../indexer/metrics';
import { dropSearchIndex } from './indexer-harness';
import { kafka, uniqueName } from './services';

export interface TestIndexer {
  indexer: ReturnType<typeof createIndexer>;
  metrics: ReturnType<typeof createIndexerMetrics>;
  config: ReturnType<typeof loadIndexerConfig>;
  groupId: string;
  /** What the indexer reported through onFatal; a test expects it empty. */
  fatal: unknown[];
  /**
   * Closes the indexer and removes what the run left: its consumer group, the given topics with
   * the prefix's dead-letter topic, and every index of the pipeline. Call it after ingest is
   * closed, or ingest's next heartbeat may create a deleted topic again.
   */
  close: (topics: readonly string[]) => Promise<void>;
}

/**
 * An in-process indexer on its own consumer group, reading the topics of `prefix` (an ingest run of
 * ingest/test-support/harness.ts) into `es`, with the watermark every 100 ms; `env` adds to or
 * overrides the indexer's variables. The caller keeps `es` and closes it.
 */
export async function startTestIndexer(opts: { prefix: string; pipelineJson: string; es: Client; env?: Record<string, string>; log?: Logger }): Promise<TestIndexer> {
  const groupId = uniqueName('g');
  const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: opts.prefix, INDEXER_GROUP_ID: groupId, INDEXER_WATERMARK_INTERVAL_MS: '100', ...opts.env });
  const pipeline = parsePipelineConfig(opts.pipelineJson);
  const metrics = createIndexerMetrics();
  const fatal: unknown[] = [];
  const indexer = createIndexer({
    config, pipeline, kafka: createKafka(config.kafkaBrokers, 'indexer-test', silentLogger), es: opts.es, metrics,
    log: opts.log ?? silentLogger, onFatal: (e) => void fatal.push(e),
  });
  const close = async (topics: readonly string[]): Promise<void> => {
    await indexer.close();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [...topics, `${opts.prefix}.dead-letters`] }).catch(() => undefined);
    await admin.disconnect();
    for (const spec of pipeline.indexes) await dropSearchIndex(opts.es, spec.name);
  };
  try {
    await indexer.start();
  } catch (err) {
    await close([]).catch(() => undefined);
    throw err;
  }
  return { indexer, metrics, config, groupId, fatal, close };
}
