import { createElasticsearchClient } from '../core/elasticsearch';
import { loadIndexerConfig } from '../config';
import { parsePipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { dropSearchIndex } from '../e2e/support/indexer-harness';
import { kafka, uniqueName } from '../e2e/support/services';
import { createIndexer } from './indexer-service';
import { createIndexerMetrics } from './metrics';

/**
 * Ingest and the indexer start together; whichever finds a table topic missing creates it, and
 * its partition count stays. The indexer once made them with one partition: every key then went
 * to partition 0 whatever TOPIC_PARTITIONS said (a consistency token naming one partition, failed
 * e2e/ingest-intake.e2e.test.ts when the indexer won the race).
 */
describe('table topics the indexer creates', () => {
  it('get TOPIC_PARTITIONS partitions, as ingest creates them; the dead-letter topic one', async () => {
    const prefix = uniqueName('t');
    const index = uniqueName('docs');
    const config = loadIndexerConfig({ ...process.env, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: uniqueName('g'), TOPIC_PARTITIONS: '4' });
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [index]: { table: 'items', fields: { title: { type: 'text', searchable: true } } } } }));
    const es = createElasticsearchClient(config.elasticsearch);
    const indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'topic-test', silentLogger), es, metrics: createIndexerMetrics(), log: silentLogger, onFatal: () => undefined });
    const admin = kafka().admin();
    await admin.connect();
    const topic = `${prefix}.public.items`;
    try {
      await indexer.start();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${prefix}.dead-letters`] });
      expect(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]))).toEqual({ [topic]: 4, [`${prefix}.dead-letters`]: 1 });
    } finally {
      await indexer.close();
      await admin.deleteTopics({ topics: [topic, `${prefix}.dead-letters`] }).catch(() => undefined);
      await admin.deleteGroups([config.groupId]).catch(() => undefined);
      await admin.disconnect();
      await dropSearchIndex(es, index);
      await es.close();
    }
  }, 60_000);
});
