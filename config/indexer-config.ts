import { hostPorts, int, optionalStr, str, url, type Env } from './env';
import { loadKafkaSecurity } from './kafka-security';
import type { ElasticsearchConfig } from './elasticsearch';
import { common, elasticsearch, topicReplication, type CommonConfig, type KafkaTopicConfig } from './common-config';

export interface IndexerConfig extends CommonConfig, KafkaTopicConfig {
  kafkaBrokers: string[];
  /** ELASTICSEARCH_URL as given (one or several comma-separated nodes), for handing on to a child process. */
  elasticsearchUrl: string;
  /** Nodes, credentials, CA bundle, and the state/lease indexes' shards and replicas (config/elasticsearch.ts). */
  elasticsearch: ElasticsearchConfig;
  /** Consumer group (INDEXER_GROUP_ID). Default: search-indexer. */
  groupId: string;
  /** Documents per bulk request (INDEXER_BATCH_MAX_DOCS). Default: 1000. */
  batchMaxDocs: number;
  /**
   * Largest bulk request body, bytes (INDEXER_BATCH_MAX_BYTES): a batch of big documents is cut
   * here before INDEXER_BATCH_MAX_DOCS. Elasticsearch works best with 5–15 MB. Default: 5242880.
   */
  batchMaxBytes: number;
  /** Longest a Kafka fetch waits for more messages before a partial batch is indexed, ms (INDEXER_BATCH_MAX_WAIT_MS). Default: 100. */
  batchMaxWaitMs: number;
  /** Bulk requests in flight across partitions (INDEXER_CONCURRENCY). Default: 4 (bench/indexer.bench.ts: the local Elasticsearch takes most with 4). */
  concurrency: number;
  /** Retries of a retriable bulk item before the partition stops (INDEXER_MAX_RETRIES). Default: 8. */
  maxRetries: number;
  /** Port of the indexer /metrics endpoint (INDEXER_METRICS_PORT); 0 = none. Default: 0. */
  metricsPort: number;
  /** How often written indexes are refreshed (their only refresh but a 30 s backstop, indexer/mappings.ts) and the freshness watermark published, ms (INDEXER_WATERMARK_INTERVAL_MS). Default: 500. */
  watermarkIntervalMs: number;
  /**
   * Kafka consumer session timeout, ms (INDEXER_SESSION_TIMEOUT_MS); heartbeats go out every tenth
   * of it, also while a long batch waits for Elasticsearch. A member that dies without leaving the
   * group (SIGKILL, OOM, power loss) holds its partitions this long before the broker hands them to
   * another member, so a restart after a crash indexes again after at most this plus a rejoin
   * (docs/operations.md). Shorter evicts a live member whose event loop stalls that long.
   * Bounds: the broker's group.min.session.timeout.ms (6000 by default) and
   * group.max.session.timeout.ms. Default: 10000 (30000 before: 28 s without indexing after a crash).
   */
  sessionTimeoutMs: number;
  /** Most bytes fetched per partition per Kafka fetch (INDEXER_FETCH_MAX_BYTES_PER_PARTITION); bounds memory while paused. Default: 4194304. */
  fetchMaxBytesPerPartition: number;
  /** Partitions whose batches are processed at once (INDEXER_PARTITIONS_CONCURRENCY); bulk requests in flight stay bounded by INDEXER_CONCURRENCY. Default: 4. */
  partitionsConcurrency: number;
  /**
   * Reindex in the background when the pipeline config maps an index differently from its live
   * generation (INDEXER_AUTO_REINDEX=1); 0 leaves it to `npm run reindex`. Default: 1.
   */
  autoReindex: boolean;
  /**
   * Postgres the indexer reads joined documents from (INDEXER_DATABASE_URL, else DATABASE_URL);
   * needed only when an index has relations. It must include every commit the indexer has seen:
   * the source database, or a replica whose replay never lags behind the stream.
   */
  databaseUrl?: string;
  /** Root documents rebuilt per query and per bulk write, for joined indexes (INDEXER_JOIN_BATCH_KEYS). Default: 500. */
  joinBatchKeys: number;
  /**
   * Batches of one rebuild (a snapshot's or a fan-out's roots) read and written at once
   * (INDEXER_JOIN_BATCHES_IN_FLIGHT): the next batch's query runs while the last one's bulk
   * request is in Elasticsearch. Default: 3.
   */
  joinBatchesInFlight: number;
  /** Postgres connections of the indexer's joined-document reads (INDEXER_JOIN_CONNECTIONS). Default: 3. */
  joinConnections: number;
  /**
   * Partitions of a table topic the indexer finds missing and creates (TOPIC_PARTITIONS, as ingest
   * reads it): ingest and the indexer start together, and whichever creates a topic fixes its
   * partition count for good. Default: 3.
   */
  topicPartitions: number;
}

export function loadIndexerConfig(env: Env = process.env): Readonly<IndexerConfig> {
  return Object.freeze({
    ...common(env),
    kafkaBrokers: hostPorts(env, 'KAFKA_BROKERS'),
    ...elasticsearch(env),
    groupId: str(env, 'INDEXER_GROUP_ID', 'search-indexer'),
    batchMaxDocs: int(env, 'INDEXER_BATCH_MAX_DOCS', 1000, 1, 50_000),
    batchMaxBytes: int(env, 'INDEXER_BATCH_MAX_BYTES', 5_242_880, 1024, 104_857_600),
    batchMaxWaitMs: int(env, 'INDEXER_BATCH_MAX_WAIT_MS', 100, 1, 10_000),
    concurrency: int(env, 'INDEXER_CONCURRENCY', 4, 1, 64),
    maxRetries: int(env, 'INDEXER_MAX_RETRIES', 8, 0, 1000),
    metricsPort: int(env, 'INDEXER_METRICS_PORT', 0, 0, 65535),
    watermarkIntervalMs: int(env, 'INDEXER_WATERMARK_INTERVAL_MS', 500, 10, 60_000),
    sessionTimeoutMs: int(env, 'INDEXER_SESSION_TIMEOUT_MS', 10_000, 6_000, 300_000),
    fetchMaxBytesPerPartition: int(env, 'INDEXER_FETCH_MAX_BYTES_PER_PARTITION', 4_194_304, 1024, 104_857_600),
    partitionsConcurrency: int(env, 'INDEXER_PARTITIONS_CONCURRENCY', 4, 1, 256),
    autoReindex: int(env, 'INDEXER_AUTO_REINDEX', 1, 0, 1) === 1,
    databaseUrl: optionalStr(env, 'INDEXER_DATABASE_URL') ? url(env, 'INDEXER_DATABASE_URL', ['postgres:', 'postgresql:']) : optionalStr(env, 'DATABASE_URL') ? url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']) : undefined,
    joinBatchKeys: int(env, 'INDEXER_JOIN_BATCH_KEYS', 500, 1, 10_000),
    joinBatchesInFlight: int(env, 'INDEXER_JOIN_BATCHES_IN_FLIGHT', 3, 1, 64),
    joinConnections: int(env, 'INDEXER_JOIN_CONNECTIONS', 3, 1, 64),
    topicPartitions: int(env, 'TOPIC_PARTITIONS', 3, 1, 1000),
    topicReplication: topicReplication(env),
    kafkaSecurity: loadKafkaSecurity(env),
  });
}
