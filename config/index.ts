import path from 'node:path';
import { hostPorts, identifier, int, optionalStr, str, url, type Env } from './env';
import type { LogLevel } from '../core/logger';
import { ConfigError } from '../core/errors';

/**
 * The only place that reads the environment. Every service calls its loader once at start;
 * the result is frozen and passed down.
 */
export interface CommonConfig {
  /** Path of the pipeline config file (PIPELINE_CONFIG). Default: config/pipelines/demo.json. */
  pipelineConfigPath: string;
  /** Kafka topic name prefix (TOPIC_PREFIX); topics are `<prefix>.<schema>.<table>`. Default: cdc. */
  topicPrefix: string;
  /** LOG_LEVEL: debug | info | warn | error. Default: info. */
  logLevel: LogLevel;
}

export interface IngestConfig extends CommonConfig {
  databaseUrl: string;
  kafkaBrokers: string[];
  /** Replication slot (SLOT_NAME). Default: search_pipeline. */
  slotName: string;
  /** Publication (PUBLICATION_NAME). Default: search_pipeline. */
  publicationName: string;
  /** Events per Kafka send (INGEST_BATCH_MAX_EVENTS). Default: 1000. */
  batchMaxEvents: number;
  /** Longest wait before a partial batch is sent, ms (INGEST_FLUSH_INTERVAL_MS). Default: 20. */
  flushIntervalMs: number;
  /** Partitions of each table topic created by ingest (TOPIC_PARTITIONS). Default: 3. */
  topicPartitions: number;
  /** Port of the ingest /metrics and /healthz endpoint (INGEST_METRICS_PORT); 0 = none. Default: 0. */
  metricsPort: number;
}

export interface IndexerConfig extends CommonConfig {
  kafkaBrokers: string[];
  elasticsearchUrl: string;
  /** Consumer group (INDEXER_GROUP_ID). Default: search-indexer. */
  groupId: string;
  /** Documents per bulk request (INDEXER_BATCH_MAX_DOCS). Default: 1000. */
  batchMaxDocs: number;
  /** Bulk requests in flight across partitions (INDEXER_CONCURRENCY). Default: 2. */
  concurrency: number;
  /** Retries of a retriable bulk item before the partition stops (INDEXER_MAX_RETRIES). Default: 8. */
  maxRetries: number;
  /** Port of the indexer /metrics endpoint (INDEXER_METRICS_PORT); 0 = none. Default: 0. */
  metricsPort: number;
}

export interface ApiConfig extends CommonConfig {
  elasticsearchUrl: string;
  host: string;
  port: number;
  /** Longest Elasticsearch query time, ms (API_QUERY_TIMEOUT_MS). Default: 5000. */
  queryTimeoutMs: number;
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

function common(env: Env): CommonConfig {
  const level = str(env, 'LOG_LEVEL', 'info') as LogLevel;
  if (!LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL=${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}.`, { variable: 'LOG_LEVEL' });
  return {
    pipelineConfigPath: path.resolve(str(env, 'PIPELINE_CONFIG', path.join(__dirname, 'pipelines', 'demo.json'))),
    topicPrefix: identifier(env, 'TOPIC_PREFIX', 'cdc'),
    logLevel: level,
  };
}

export function loadIngestConfig(env: Env = process.env): Readonly<IngestConfig> {
  return Object.freeze({
    ...common(env),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    kafkaBrokers: hostPorts(env, 'KAFKA_BROKERS'),
    slotName: identifier(env, 'SLOT_NAME', 'search_pipeline'),
    publicationName: identifier(env, 'PUBLICATION_NAME', 'search_pipeline'),
    batchMaxEvents: int(env, 'INGEST_BATCH_MAX_EVENTS', 1000, 1, 100_000),
    flushIntervalMs: int(env, 'INGEST_FLUSH_INTERVAL_MS', 20, 1, 60_000),
    topicPartitions: int(env, 'TOPIC_PARTITIONS', 3, 1, 1000),
    metricsPort: int(env, 'INGEST_METRICS_PORT', 0, 0, 65535),
  });
}

export function loadIndexerConfig(env: Env = process.env): Readonly<IndexerConfig> {
  return Object.freeze({
    ...common(env),
    kafkaBrokers: hostPorts(env, 'KAFKA_BROKERS'),
    elasticsearchUrl: url(env, 'ELASTICSEARCH_URL', ['http:', 'https:']),
    groupId: str(env, 'INDEXER_GROUP_ID', 'search-indexer'),
    batchMaxDocs: int(env, 'INDEXER_BATCH_MAX_DOCS', 1000, 1, 50_000),
    concurrency: int(env, 'INDEXER_CONCURRENCY', 2, 1, 64),
    maxRetries: int(env, 'INDEXER_MAX_RETRIES', 8, 0, 1000),
    metricsPort: int(env, 'INDEXER_METRICS_PORT', 0, 0, 65535),
  });
}

export function loadApiConfig(env: Env = process.env): Readonly<ApiConfig> {
  const fromUrl = optionalStr(env, 'API_URL') ? new URL(url(env, 'API_URL', ['http:'])) : undefined;
  return Object.freeze({
    ...common(env),
    elasticsearchUrl: url(env, 'ELASTICSEARCH_URL', ['http:', 'https:']),
    host: str(env, 'API_HOST', fromUrl?.hostname ?? '127.0.0.1'),
    port: int(env, 'API_PORT', fromUrl?.port ? Number(fromUrl.port) : 8080, 0, 65535),
    queryTimeoutMs: int(env, 'API_QUERY_TIMEOUT_MS', 5000, 100, 60_000),
  });
}
