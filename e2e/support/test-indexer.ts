import type { Client } from '@elastic/elasticsearch';
import type { Client as PgClient } from 'pg';
import { loadIndexerConfig } from '../../config';
import { parsePipelineConfig } from '../../config/pipeline';
import { createKafka } from '../../core/kafka';
import { silentLogger, type Logger } from '../../core/logger';
import { createIndexer } from '../../indexer/indexer-service';
import { createIndexerMetrics } from '../../indexer/metrics';
import { dropPipelineObjects, testPipeline } from '../../ingest/test-support/harness';
import { dropSearchIndex } from './indexer-harness';
import type { joinedModel } from './joined-model';
import { stopService, type RunningService } from './processes';
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
    await dropRunLeftovers({ groupId, prefix: opts.prefix, topics, es: opts.es, indexes: pipeline.indexes.map((spec) => spec.name) });
  };
  try {
    await indexer.start();
  } catch (err) {
    await close([]).catch(() => undefined);
    throw err;
  }
  return { indexer, metrics, config, groupId, fatal, close };
}

/**
 * What a run of ingest and the indexer leaves in Kafka and Elasticsearch: the consumer group, the
 * given topics with the prefix's dead-letter topic, and each index with every generation. Call it
 * once both are stopped.
 */
export async function dropRunLeftovers(opts: { groupId: string; prefix: string; topics: readonly string[]; es: Client; indexes: readonly string[] }): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteGroups([opts.groupId]).catch(() => undefined);
  await admin.deleteTopics({ topics: [...opts.topics, `${opts.prefix}.dead-letters`] }).catch(() => undefined);
  await admin.disconnect();
  for (const index of opts.indexes) await dropSearchIndex(opts.es, index);
}

/**
 * The joined model (support/joined-model.ts) running: its tables created and filled, ingest in
 * process on them and a test indexer building its index; resolves once ingest's snapshot is done
 * (the documents may still be on their way). `close` stops both and drops what the run created,
 * the tables included; the caller keeps `db` and `es`.
 */
export async function startJoinedRun(m: ReturnType<typeof joinedModel>, db: PgClient, es: Client, indexer: { env: Record<string, string>; log?: Logger }) {
  await m.create(db);
  const pipelineJson = JSON.stringify(m.pipeline);
  const p = testPipeline(db, m.tables);
  const run = p.start({}, { pipeline: pipelineJson });
  let ti: TestIndexer | undefined;
  try {
    await run.ingest.start();
    ti = await startTestIndexer({ prefix: p.prefix, pipelineJson, es, ...indexer });
    await run.ingest.snapshotDone();
  } catch (err) {
    await p.cleanup().catch(() => undefined);
    await ti?.close(m.tables.map((t) => p.topic(t))).catch(() => undefined);
    throw err;
  }
  return {
    p, run, indexer: ti,
    close: async (): Promise<void> => {
      await p.cleanup();
      await ti.close(m.tables.map((t) => p.topic(t)));
    },
  };
}

/**
 * Stops the services of a run of the joined model as processes (ingest on `slot`, the indexer on
 * `groupId`) and drops what they created: the slot's objects and the tables, the topics, the group
 * and the index. The caller keeps `db` and `es`.
 */
export async function stopJoinedServices(opts: { m: ReturnType<typeof joinedModel>; db: PgClient; es: Client; slot: string; groupId: string; services: ReadonlyArray<RunningService | undefined> }): Promise<void> {
  const { m } = opts;
  for (const s of opts.services) if (s) await stopService(s);
  await dropPipelineObjects(opts.db, opts.slot, m.tables);
  await dropRunLeftovers({ groupId: opts.groupId, prefix: m.prefix, topics: m.tables.map((t) => `${m.prefix}.public.${t}`), es: opts.es, indexes: [m.index] });
}
