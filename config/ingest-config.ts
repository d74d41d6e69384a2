import { hostPorts, identifier, int, optionalStr, str, url, type Env } from './env';
import { ConfigError } from '../core/errors';
import { loadKafkaSecurity } from './kafka-security';
import { loadElasticsearchConfig, type ElasticsearchConfig } from './elasticsearch';
import { common, slotName, tableList, topicReplication, type CommonConfig, type KafkaTopicConfig } from './common-config';

export interface IngestConfig extends CommonConfig, KafkaTopicConfig {
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
  /** Partitions of each table topic created by ingest or the indexer, whichever starts first (TOPIC_PARTITIONS). Default: 3. */
  topicPartitions: number;
  /** Port of the ingest /metrics and /healthz endpoint (INGEST_METRICS_PORT); 0 = none. Default: 0. */
  metricsPort: number;
  /**
   * How often a standby ingest asks Postgres for the slot lease, ms (INGEST_STANDBY_POLL_MS): with
   * the time Postgres takes to notice a dead active ingest, this bounds the takeover (docs/scaling.md). Default: 500.
   */
  standbyPollMs: number;
  /** Interval of heartbeat messages through the slot, ms (INGEST_HEARTBEAT_INTERVAL_MS); 0 = off. Default: 1000. */
  heartbeatIntervalMs: number;
  /** Interval of slot lag samples, ms (INGEST_SLOT_LAG_INTERVAL_MS). Default: 5000. */
  slotLagIntervalMs: number;
  /** Slot lag in bytes above which ingest warns (INGEST_SLOT_LAG_WARN_BYTES). Default: 1073741824 (1 GiB). */
  slotLagWarnBytes: number;
  /** Slot lag in seconds above which ingest warns (INGEST_SLOT_LAG_WARN_SECONDS). Default: 300. */
  slotLagWarnSeconds: number;
  /** Rows per snapshot chunk (INGEST_SNAPSHOT_CHUNK_ROWS). Default: 5000. */
  snapshotChunkRows: number;
  /**
   * INGEST_RESNAPSHOT=1 allows creating a new slot (and re-copying every table) although this
   * pipeline ran before, or replacing an invalidated slot. Default: 0 (refuse and say why).
   */
  resnapshot: boolean;
  /** Elasticsearch, read by reconciliation only (ELASTICSEARCH_URL, nodes as given); required when INGEST_RECONCILE_INTERVAL_MS is set. */
  elasticsearchUrl?: string;
  /** The same, with its credentials and CA (config/elasticsearch.ts), for the client. */
  elasticsearch?: ElasticsearchConfig;
  /** Reconciliation (docs/operations.md): how often ingest compares every single-table index with its table, ms (INGEST_RECONCILE_INTERVAL_MS); 0 = off. Default: 0. */
  reconcileIntervalMs: number;
  /** Rows (and as many documents) the background reconciliation samples per index (INGEST_RECONCILE_SAMPLE); 0 = compare all of them by checksums. Default: 0. */
  reconcileSample: number;
  /** INGEST_RECONCILE_REPAIR=1: the background reconciliation repairs what it finds (a re-snapshot of the drifted keys). Default: 0 (report only). */
  reconcileRepair: boolean;
  /** Rows per checksum bucket of a full reconciliation (RECONCILE_BUCKET_ROWS). Default: 1000. */
  reconcileBucketRows: number;
  /** Wait before differences are read again, so changes still in flight are not counted, ms (RECONCILE_SETTLE_MS). Default: 5000. */
  reconcileSettleMs: number;
  /** How often ingest looks for re-snapshot requests (`npm run resnapshot`, reconcile's repair), ms (INGEST_RESNAPSHOT_POLL_MS). Default: 2000. */
  resnapshotPollMs: number;
  /** Port of the upstream event intake `POST /v1/events` (INGEST_HTTP_PORT); 0 = off. Default: 0. */
  httpPort: number;
  /** Interface the event intake listens on (INGEST_HTTP_HOST). Default: 127.0.0.1. */
  httpHost: string;
  /** Largest intake request body, bytes after gzip decoding (INGEST_HTTP_MAX_BODY_BYTES); spooled to disk past a few MiB, so memory stays bounded. Default: 33554432 (32 MiB). */
  httpMaxBodyBytes: number;
  /** Largest single event as a Kafka record, key + value bytes (INGEST_HTTP_MAX_EVENT_BYTES); keep it below the broker's message.max.bytes. Default: 1000000. */
  httpMaxEventBytes: number;
  /**
   * Tables (`schema.table`, each also in the pipeline config) fed by upstream services over
   * POST /v1/events instead of Postgres (INGEST_HTTP_TABLES, comma-separated). Their versions are
   * the service's, so ingest does not capture them from Postgres: one version space per table
   * (docs/change-event.md). Default: none.
   */
  httpTables: string[];
}

export function loadIngestConfig(env: Env = process.env): Readonly<IngestConfig> {
  return Object.freeze({
    ...common(env),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    kafkaBrokers: hostPorts(env, 'KAFKA_BROKERS'),
    slotName: slotName(env),
    publicationName: identifier(env, 'PUBLICATION_NAME', 'search_pipeline'),
    batchMaxEvents: int(env, 'INGEST_BATCH_MAX_EVENTS', 1000, 1, 100_000),
    flushIntervalMs: int(env, 'INGEST_FLUSH_INTERVAL_MS', 20, 1, 60_000),
    topicPartitions: int(env, 'TOPIC_PARTITIONS', 3, 1, 1000),
    topicReplication: topicReplication(env),
    kafkaSecurity: loadKafkaSecurity(env),
    metricsPort: int(env, 'INGEST_METRICS_PORT', 0, 0, 65535),
    standbyPollMs: int(env, 'INGEST_STANDBY_POLL_MS', 500, 50, 60_000),
    heartbeatIntervalMs: int(env, 'INGEST_HEARTBEAT_INTERVAL_MS', 1000, 0, 3_600_000),
    slotLagIntervalMs: int(env, 'INGEST_SLOT_LAG_INTERVAL_MS', 5000, 100, 3_600_000),
    slotLagWarnBytes: int(env, 'INGEST_SLOT_LAG_WARN_BYTES', 1024 ** 3, 0),
    slotLagWarnSeconds: int(env, 'INGEST_SLOT_LAG_WARN_SECONDS', 300, 0),
    snapshotChunkRows: int(env, 'INGEST_SNAPSHOT_CHUNK_ROWS', 5000, 1, 1_000_000),
    resnapshot: int(env, 'INGEST_RESNAPSHOT', 0, 0, 1) === 1,
    resnapshotPollMs: int(env, 'INGEST_RESNAPSHOT_POLL_MS', 2000, 100, 3_600_000),
    ...reconcileConfig(env),
    httpPort: int(env, 'INGEST_HTTP_PORT', 0, 0, 65535),
    httpHost: str(env, 'INGEST_HTTP_HOST', '127.0.0.1'),
    httpMaxBodyBytes: int(env, 'INGEST_HTTP_MAX_BODY_BYTES', 32 * 1024 ** 2, 1024, 1024 ** 3),
    httpMaxEventBytes: int(env, 'INGEST_HTTP_MAX_EVENT_BYTES', 1_000_000, 1024, 100 * 1024 ** 2),
    httpTables: tableList(env, 'INGEST_HTTP_TABLES'),
  });
}

function reconcileConfig(env: Env) {
  const reconcileIntervalMs = int(env, 'INGEST_RECONCILE_INTERVAL_MS', 0, 0, 30 * 24 * 3_600_000);
  const es = optionalStr(env, 'ELASTICSEARCH_URL') ? loadElasticsearchConfig(env) : undefined;
  const elasticsearchUrl = es?.nodes.join(',');
  if (reconcileIntervalMs > 0 && !elasticsearchUrl) {
    throw new ConfigError('INGEST_RECONCILE_INTERVAL_MS is set, so ingest reads the indexes to compare them with their tables: set ELASTICSEARCH_URL too (e.g. http://127.0.0.1:9200), or INGEST_RECONCILE_INTERVAL_MS=0.', { variable: 'ELASTICSEARCH_URL' });
  }
  return {
    elasticsearchUrl,
    ...(es ? { elasticsearch: es } : {}),
    reconcileIntervalMs,
    reconcileSample: int(env, 'INGEST_RECONCILE_SAMPLE', 0, 0, 1_000_000),
    reconcileRepair: int(env, 'INGEST_RECONCILE_REPAIR', 0, 0, 1) === 1,
    reconcileBucketRows: int(env, 'RECONCILE_BUCKET_ROWS', 1000, 1, 10_000_000),
    reconcileSettleMs: int(env, 'RECONCILE_SETTLE_MS', 5000, 0, 600_000),
  };
}
