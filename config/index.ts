import path from 'node:path';
import { hostPorts, identifier, int, optionalStr, str, url, type Env } from './env';
import type { LogLevel } from '../core/logger';
import { ConfigError } from '../core/errors';
import type { TopicReplication } from '../core/topic-replication';
import type { KafkaSecurity } from '../core/kafka-security';
import { loadKafkaSecurity } from './kafka-security';
import { loadElasticsearchConfig, type ElasticsearchConfig } from './elasticsearch';
import { loadTracingConfig } from './tracing';
import type { TracingConfig } from '../core/tracing';

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
  /** Traces: TRACING and the variables beside it (config/tracing.ts). Default: off. */
  tracing: Readonly<TracingConfig>;
}

/** How the topics the pipeline creates are replicated (docs/scaling.md). */
export interface KafkaTopicConfig {
  /**
   * KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS for topics created from now on. Default:
   * unset, picked from the cluster at creation: min(3, brokers) copies, one fewer in sync (3/2 on
   * a cluster, 1/1 on a single broker).
   */
  topicReplication: TopicReplication;
  /** TLS and SASL of every Kafka connection (config/kafka-security.ts). Default: plaintext. */
  kafkaSecurity: KafkaSecurity;
}

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

export interface ApiConfig extends CommonConfig {
  /** ELASTICSEARCH_URL as given. */
  elasticsearchUrl: string;
  /** Nodes, credentials, CA bundle (config/elasticsearch.ts). */
  elasticsearch: ElasticsearchConfig;
  host: string;
  port: number;
  /** Longest Elasticsearch query time, ms (API_QUERY_TIMEOUT_MS). Default: 5000. */
  queryTimeoutMs: number;
  /** Largest accepted POST body, bytes after decompression (API_MAX_BODY_BYTES). Default: 65536. */
  maxBodyBytes: number;
  /**
   * Key that signs search cursors (API_CURSOR_SECRET, at least 16 characters). Default: random
   * per process, so cursors only work against the instance that issued them; set one shared
   * value when several API instances sit behind a load balancer.
   */
  cursorSecret: string | undefined;
  /** How long a cursor's point in time stays open between pages, s (API_CURSOR_KEEP_ALIVE_S). Default: 120. */
  cursorKeepAliveS: number;
  /**
   * Redis of the shared result cache (API_REDIS_URL, else REDIS_URL). Default: none, the cache is
   * then in-process only (each API instance caches on its own).
   */
  redisUrl: string | undefined;
  /** Backstop lifetime of a cached result, s (API_CACHE_TTL_S), ± 20% jitter; a watermark change invalidates sooner. Default: 300. */
  cacheTtlS: number;
  /** Entries of the in-process cache level (API_CACHE_MAX_ENTRIES); 0 turns the whole cache off. Default: 5000. */
  cacheMaxEntries: number;
  /** Bytes of cached bodies the in-process level holds at most (API_CACHE_MAX_BYTES). Default: 67108864 (64 MiB). */
  cacheMaxBytes: number;
  /**
   * Cross-instance single-flight (API_CACHE_LOCK_WAIT_MS): on a miss, one API instance claims the
   * key in Redis and queries; the others wait up to this long for its answer, then query anyway.
   * 0 = off (single-flight per instance only). Default: 1000.
   */
  cacheLockWaitMs: number;
  /** How long the in-process copy of an index's freshness watermark is used before it is read again, ms (API_WATERMARK_REFRESH_MS). Default: 200. */
  watermarkRefreshMs: number;
  /** Longest wait for the watermark to reach a caller's minLsn or consistency token before answering with stale: true, ms (API_CONSISTENCY_WAIT_MS). Default: 5000. */
  consistencyWaitMs: number;
  /**
   * API_AUTH: `keys` requires an API key (stored in Redis, so REDIS_URL is then required) on
   * every /v1 route; `off` serves everyone as one trusted caller without tenant filtering.
   * Default: off, so a local demo works without a key (the API logs a warning at start).
   */
  authMode: 'keys' | 'off';
  /**
   * How long a verified key is trusted before Redis is asked again, ms (API_KEY_CACHE_MS); this
   * bounds how long a revoked key keeps working. Default: 5000.
   */
  keyCacheMs: number;
  /** Sustained requests per second each key may make (API_RATE_LIMIT_PER_SEC); 0 = no limit. Default: 50. */
  rateLimitPerSec: number;
  /** Requests a key may make at once above the sustained rate (API_RATE_LIMIT_BURST). Default: 100. */
  rateLimitBurst: number;
  /** Prefix of the Redis keys holding API keys and rate-limit buckets (API_REDIS_PREFIX). Default: search-pipeline: */
  redisPrefix: string;
  /**
   * Bearer token /metrics requires (API_METRICS_TOKEN, at least 16 characters): its series name
   * tenants and key ids. Default: none; /metrics is then open with API_AUTH=off and closed (401)
   * with API_AUTH=keys.
   */
  metricsToken: string | undefined;
  /**
   * One info log line per request (API_ACCESS_LOG=1): request id, method, path without the query
   * string, route, status, ms, bytes, key id. Default: 0 (off; errors are logged either way).
   */
  accessLog: boolean;
  /**
   * On SIGTERM, how long /readyz answers 503 before the listener closes (API_DRAIN_DELAY_MS), so a
   * load balancer's health check takes the instance out before connections are refused; in-flight
   * requests then finish. Set it to the balancer's check interval times its fall count, plus one
   * interval. Default: 5000 (HAProxy with `inter 1s fall 2`: 3 s). 0 closes at once.
   */
  drainDelayMs: number;
  /**
   * Origins whose pages may call the API (API_CORS_ORIGINS): a comma-separated list of exact
   * origins (`https://shop.example.com,http://localhost:3000`), or `*` for any. Credentials
   * (cookies) are never allowed, so `*` exposes nothing a key does not. Default: none (no CORS
   * headers; only same-origin pages, such as the search page, can call the API from a browser).
   */
  corsOrigins: readonly string[] | '*';
  /** Browser keys: signing secret and longest lifetime (see BrowserKeyConfig). */
  browserKeys: BrowserKeyConfig;
  /** Serve the search page at /ui (API_SEARCH_PAGE=1). Default: 1; it holds no data and uses the caller's key. */
  searchPage: boolean;
}

export interface BrowserKeyConfig {
  /**
   * HMAC key of browser keys (API_BROWSER_KEY_SECRET, at least 32 characters, the same on every
   * API instance and for `npm run api-keys -- browser-key`). Default: none, browser keys are off.
   */
  secret: string | undefined;
  /** Longest lifetime of a browser key, s (API_BROWSER_KEY_MAX_TTL_S). Default: 3600. */
  maxTtlS: number;
}

/** What the `npm run api-keys` CLI needs: the Redis the API reads keys from. */
export interface ApiKeysConfig {
  redisUrl: string;
  redisPrefix: string;
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

function common(env: Env): CommonConfig {
  const level = str(env, 'LOG_LEVEL', 'info') as LogLevel;
  if (!LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL=${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}.`, { variable: 'LOG_LEVEL' });
  return {
    pipelineConfigPath: path.resolve(str(env, 'PIPELINE_CONFIG', path.join(__dirname, 'pipelines', 'demo.json'))),
    topicPrefix: identifier(env, 'TOPIC_PREFIX', 'cdc'),
    logLevel: level,
    tracing: loadTracingConfig(env),
  };
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

function tableList(env: Env, name: string): string[] {
  const list = (optionalStr(env, name) ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) {
    if (!/^[^.\s]+\.[^.\s]+$/.test(t)) throw new ConfigError(`${name} has ${JSON.stringify(t)}; expected a comma-separated list of schema.table (e.g. public.orders).`, { variable: name });
  }
  return list;
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

function elasticsearch(env: Env): { elasticsearchUrl: string; elasticsearch: ElasticsearchConfig } {
  const es = loadElasticsearchConfig(env);
  return { elasticsearchUrl: es.nodes.join(','), elasticsearch: es };
}

/** KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS: unset parts are picked from the cluster when a topic is created. */
export function topicReplication(env: Env): TopicReplication {
  const rf = optionalStr(env, 'KAFKA_REPLICATION_FACTOR') ? int(env, 'KAFKA_REPLICATION_FACTOR', 3, 1, 32_767) : undefined;
  const minIsr = optionalStr(env, 'KAFKA_MIN_INSYNC_REPLICAS') ? int(env, 'KAFKA_MIN_INSYNC_REPLICAS', 2, 1, 32_767) : undefined;
  if (rf !== undefined && minIsr !== undefined && minIsr > rf) {
    throw new ConfigError(`KAFKA_MIN_INSYNC_REPLICAS=${minIsr} is above KAFKA_REPLICATION_FACTOR=${rf}: every acks=all produce would fail. Set it to at most ${rf} (${Math.max(1, rf - 1)} lets one broker be down).`, { variable: 'KAFKA_MIN_INSYNC_REPLICAS' });
  }
  return Object.freeze({ replicationFactor: rf, minInsyncReplicas: minIsr });
}

export function loadApiConfig(env: Env = process.env): Readonly<ApiConfig> {
  const fromUrl = optionalStr(env, 'API_URL') ? new URL(url(env, 'API_URL', ['http:'])) : undefined;
  return Object.freeze({
    ...common(env),
    ...elasticsearch(env),
    host: str(env, 'API_HOST', fromUrl?.hostname ?? '127.0.0.1'),
    port: int(env, 'API_PORT', fromUrl?.port ? Number(fromUrl.port) : 8080, 0, 65535),
    queryTimeoutMs: int(env, 'API_QUERY_TIMEOUT_MS', 5000, 100, 60_000),
    maxBodyBytes: int(env, 'API_MAX_BODY_BYTES', 65_536, 1024, 10_485_760),
    cursorSecret: cursorSecret(env),
    cursorKeepAliveS: int(env, 'API_CURSOR_KEEP_ALIVE_S', 120, 10, 3600),
    redisUrl: optionalStr(env, 'API_REDIS_URL') ? url(env, 'API_REDIS_URL', ['redis:', 'rediss:']) : optionalStr(env, 'REDIS_URL') ? url(env, 'REDIS_URL', ['redis:', 'rediss:']) : undefined,
    cacheTtlS: int(env, 'API_CACHE_TTL_S', 300, 1, 86_400),
    cacheMaxEntries: int(env, 'API_CACHE_MAX_ENTRIES', 5000, 0, 1_000_000),
    cacheMaxBytes: int(env, 'API_CACHE_MAX_BYTES', 64 * 1024 * 1024, 0, 8 * 1024 ** 3),
    cacheLockWaitMs: int(env, 'API_CACHE_LOCK_WAIT_MS', 1000, 0, 60_000),
    watermarkRefreshMs: int(env, 'API_WATERMARK_REFRESH_MS', 200, 10, 60_000),
    consistencyWaitMs: int(env, 'API_CONSISTENCY_WAIT_MS', 5000, 0, 60_000),
    metricsToken: metricsToken(env),
    accessLog: int(env, 'API_ACCESS_LOG', 0, 0, 1) === 1,
    drainDelayMs: int(env, 'API_DRAIN_DELAY_MS', 5000, 0, 120_000),
    corsOrigins: corsOrigins(env),
    browserKeys: browserKeys(env),
    searchPage: int(env, 'API_SEARCH_PAGE', 1, 0, 1) === 1,
    ...apiAuth(env),
  });
}

function apiAuth(env: Env): Pick<ApiConfig, 'authMode' | 'keyCacheMs' | 'rateLimitPerSec' | 'rateLimitBurst' | 'redisPrefix'> {
  return {
    authMode: keyAuthMode(env),
    keyCacheMs: keyCacheMs(env),
    rateLimitPerSec: int(env, 'API_RATE_LIMIT_PER_SEC', 50, 0, 1_000_000),
    rateLimitBurst: int(env, 'API_RATE_LIMIT_BURST', 100, 1, 1_000_000),
    redisPrefix: redisPrefix(env),
  };
}

/** SLOT_NAME: ingest's replication slot, also what `npm start` watches while the demo starts. */
export function slotName(env: Env = process.env): string {
  return identifier(env, 'SLOT_NAME', 'search_pipeline');
}

/** API_AUTH for every service that checks API keys (the API, the ingest intake): keys need Redis. */
export function keyAuthMode(env: Env, service = ''): 'keys' | 'off' {
  const mode = str(env, 'API_AUTH', 'off');
  if (mode !== 'keys' && mode !== 'off') throw new ConfigError(`API_AUTH=${JSON.stringify(mode)} is not one of keys, off.`, { variable: 'API_AUTH' });
  if (mode === 'keys' && !optionalStr(env, 'API_REDIS_URL') && !optionalStr(env, 'REDIS_URL')) {
    throw new ConfigError(`API_AUTH=keys needs REDIS_URL (or API_REDIS_URL)${service ? ` for ${service}` : ''}: API keys are stored in Redis. Set it, or API_AUTH=off for a local demo.`, { variable: 'REDIS_URL' });
  }
  return mode;
}

/** How long a verified key is trusted before Redis is asked again (API_KEY_CACHE_MS). */
export function keyCacheMs(env: Env): number {
  return int(env, 'API_KEY_CACHE_MS', 5000, 0, 300_000);
}

function redisPrefix(env: Env): string {
  const p = str(env, 'API_REDIS_PREFIX', 'search-pipeline:');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(p)) throw new ConfigError(`API_REDIS_PREFIX=${JSON.stringify(p)} is not a valid prefix; use up to 64 letters, digits and _ . : -`, { variable: 'API_REDIS_PREFIX' });
  return p;
}

export function loadApiKeysConfig(env: Env = process.env): Readonly<ApiKeysConfig> {
  const name = optionalStr(env, 'API_REDIS_URL') ? 'API_REDIS_URL' : 'REDIS_URL';
  return Object.freeze({ redisUrl: url(env, name, ['redis:', 'rediss:']), redisPrefix: redisPrefix(env) });
}

/** What `npm run api-keys -- browser-key` needs besides the key store: the API's secret and its indexes. */
export function loadBrowserKeyCliConfig(env: Env = process.env): Readonly<BrowserKeyConfig & { pipelineConfigPath: string }> {
  return Object.freeze({ ...browserKeys(env), pipelineConfigPath: common(env).pipelineConfigPath });
}

function browserKeys(env: Env): BrowserKeyConfig {
  const secret = optionalStr(env, 'API_BROWSER_KEY_SECRET');
  if (secret !== undefined && secret.length < 32) throw new ConfigError('API_BROWSER_KEY_SECRET is too short; use at least 32 random characters (e.g. `openssl rand -hex 32`), the same on every API instance.', { variable: 'API_BROWSER_KEY_SECRET' });
  return { secret, maxTtlS: int(env, 'API_BROWSER_KEY_MAX_TTL_S', 3600, 60, 86_400) };
}

/** API_CORS_ORIGINS: exact origins as a browser sends them in `Origin`, or `*` alone. */
function corsOrigins(env: Env): readonly string[] | '*' {
  const raw = optionalStr(env, 'API_CORS_ORIGINS');
  if (raw === undefined) return [];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.includes('*')) {
    if (list.length > 1) throw new ConfigError(`API_CORS_ORIGINS=${JSON.stringify(raw)} mixes * with origins; give * alone (any origin) or only origins.`, { variable: 'API_CORS_ORIGINS' });
    return '*';
  }
  for (const o of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(o);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== o) {
      throw new ConfigError(`API_CORS_ORIGINS has ${JSON.stringify(o)}; each entry must be an origin exactly as browsers send it: scheme://host[:port] in lower case, without a path or trailing slash (e.g. https://shop.example.com).`, { variable: 'API_CORS_ORIGINS' });
    }
  }
  return Object.freeze(list);
}

function metricsToken(env: Env): string | undefined {
  const s = optionalStr(env, 'API_METRICS_TOKEN');
  if (s !== undefined && s.length < 16) throw new ConfigError('API_METRICS_TOKEN is too short; use at least 16 random characters (e.g. `openssl rand -hex 32`).', { variable: 'API_METRICS_TOKEN' });
  return s;
}

function cursorSecret(env: Env): string | undefined {
  const s = optionalStr(env, 'API_CURSOR_SECRET');
  if (s !== undefined && s.length < 16) throw new ConfigError('API_CURSOR_SECRET is too short; use at least 16 random characters (e.g. `openssl rand -hex 32`).', { variable: 'API_CURSOR_SECRET' });
  return s;
}
