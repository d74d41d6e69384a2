import path from 'node:path';
import { loadElasticsearchConfig, type ElasticsearchConfig } from './elasticsearch';
import { hostPorts, identifier, int, optionalStr, str, url, type Env } from './env';
import { slotName } from './index';
import { loadKafkaSecurity } from './kafka-security';
import type { KafkaSecurity } from '../core/kafka-security';

/**
 * What `npm run status` and `npm run dead-letters` read: the same variables the services read,
 * so one environment describes a deployment for the services and for these tools. Everything is
 * optional: a part of the pipeline whose address is missing is reported as not configured.
 */
export interface OpsConfig {
  pipelineConfigPath: string;
  topicPrefix: string;
  /** DATABASE_URL: slot lag, snapshot progress, the row a dead letter's replay re-reads. */
  databaseUrl?: string;
  /** KAFKA_BROKERS: consumer lag, the dead-letter topic. */
  kafkaBrokers?: string[];
  /** KAFKA_TLS* and KAFKA_SASL_*, as the services read them (config/kafka-security.ts). */
  kafkaSecurity: KafkaSecurity;
  /** ELASTICSEARCH_URL: watermarks, reindex leases, replayed documents (nodes as given). */
  elasticsearchUrl?: string;
  /** The same with credentials and CA (config/elasticsearch.ts), for the client. */
  elasticsearch?: ElasticsearchConfig;
  /** REDIS_URL (or API_REDIS_URL): only checked for being up. */
  redisUrl?: string;
  slotName: string;
  /** INDEXER_GROUP_ID: the consumer group whose lag is shown. */
  groupId: string;
  /** STATUS_INGEST_URL, else http://127.0.0.1:INGEST_METRICS_PORT: ingest's /healthz and /metrics. */
  ingestUrl?: string;
  /** STATUS_INDEXER_URL, else http://127.0.0.1:INDEXER_METRICS_PORT. */
  indexerUrl?: string;
  /** API_URL: the API's /healthz and /metrics (with API_METRICS_TOKEN when set). */
  apiUrl?: string;
  apiMetricsToken?: string;
  /** STATUS_LOGS_DIR: where <service>.log files are, for the last error lines (local stack: .stack/logs). */
  logsDir?: string;
  /** STATUS_TIMEOUT_MS: bound of each probe. Default 5000. */
  timeoutMs: number;
  /** Thresholds that make the status unhealthy (exit 1): STATUS_MAX_WATERMARK_AGE_S (60), STATUS_MAX_SLOT_LAG_BYTES (1 GiB), STATUS_MAX_CONSUMER_LAG (warning only, 1000). */
  maxWatermarkAgeS: number;
  maxSlotLagBytes: number;
  maxConsumerLag: number;
}

export function loadOpsConfig(env: Env = process.env, defaultLogsDir?: string): Readonly<OpsConfig> {
  const opt = <T>(name: string, read: () => T): T | undefined => (optionalStr(env, name) ? read() : undefined);
  const local = (port: string): string | undefined => {
    const p = int(env, port, 0, 0, 65535);
    return p ? `http://127.0.0.1:${p}` : undefined;
  };
  const redisVar = optionalStr(env, 'API_REDIS_URL') ? 'API_REDIS_URL' : 'REDIS_URL';
  return Object.freeze({
    pipelineConfigPath: path.resolve(str(env, 'PIPELINE_CONFIG', path.join(__dirname, 'pipelines', 'demo.json'))),
    topicPrefix: identifier(env, 'TOPIC_PREFIX', 'cdc'),
    databaseUrl: opt('DATABASE_URL', () => url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'])),
    kafkaBrokers: opt('KAFKA_BROKERS', () => hostPorts(env, 'KAFKA_BROKERS')),
    kafkaSecurity: loadKafkaSecurity(env),
    elasticsearchUrl: opt('ELASTICSEARCH_URL', () => loadElasticsearchConfig(env).nodes.join(',')),
    elasticsearch: opt('ELASTICSEARCH_URL', () => loadElasticsearchConfig(env)),
    redisUrl: opt(redisVar, () => url(env, redisVar, ['redis:', 'rediss:'])),
    slotName: slotName(env),
    groupId: str(env, 'INDEXER_GROUP_ID', 'search-indexer'),
    ingestUrl: opt('STATUS_INGEST_URL', () => url(env, 'STATUS_INGEST_URL', ['http:', 'https:'])) ?? local('INGEST_METRICS_PORT'),
    indexerUrl: opt('STATUS_INDEXER_URL', () => url(env, 'STATUS_INDEXER_URL', ['http:', 'https:'])) ?? local('INDEXER_METRICS_PORT'),
    apiUrl: opt('API_URL', () => url(env, 'API_URL', ['http:', 'https:'])),
    apiMetricsToken: optionalStr(env, 'API_METRICS_TOKEN'),
    logsDir: optionalStr(env, 'STATUS_LOGS_DIR') ?? defaultLogsDir,
    timeoutMs: int(env, 'STATUS_TIMEOUT_MS', 5000, 100, 120_000),
    maxWatermarkAgeS: int(env, 'STATUS_MAX_WATERMARK_AGE_S', 60, 1),
    maxSlotLagBytes: int(env, 'STATUS_MAX_SLOT_LAG_BYTES', 1024 ** 3, 0),
    maxConsumerLag: int(env, 'STATUS_MAX_CONSUMER_LAG', 1000, 0),
  });
}
