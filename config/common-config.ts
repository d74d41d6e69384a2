import path from 'node:path';
import { identifier, int, optionalStr, str, type Env } from './env';
import type { LogLevel } from '../core/logger';
import { ConfigError } from '../core/errors';
import type { TopicReplication } from '../core/topic-replication';
import type { KafkaSecurity } from '../core/kafka-security';
import { loadElasticsearchConfig, type ElasticsearchConfig } from './elasticsearch';
import { loadTracingConfig } from './tracing';
import type { TracingConfig } from '../core/tracing';

/** What every service reads alike (config/index.ts gathers the loaders of each service). */
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

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function common(env: Env): CommonConfig {
  const level = str(env, 'LOG_LEVEL', 'info') as LogLevel;
  if (!LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL=${JSON.stringify(level)} is not one of ${LEVELS.join(', ')}.`, { variable: 'LOG_LEVEL' });
  return {
    pipelineConfigPath: path.resolve(str(env, 'PIPELINE_CONFIG', path.join(__dirname, 'pipelines', 'demo.json'))),
    topicPrefix: identifier(env, 'TOPIC_PREFIX', 'cdc'),
    logLevel: level,
    tracing: loadTracingConfig(env),
  };
}

export function elasticsearch(env: Env): { elasticsearchUrl: string; elasticsearch: ElasticsearchConfig } {
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

/** SLOT_NAME: ingest's replication slot, also what `npm start` watches while the demo starts. */
export function slotName(env: Env = process.env): string {
  return identifier(env, 'SLOT_NAME', 'search_pipeline');
}

/** A comma-separated list of schema.table in the variable `name`. */
export function tableList(env: Env, name: string): string[] {
  const list = (optionalStr(env, name) ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) {
    if (!/^[^.\s]+\.[^.\s]+$/.test(t)) throw new ConfigError(`${name} has ${JSON.stringify(t)}; expected a comma-separated list of schema.table (e.g. public.orders).`, { variable: name });
  }
  return list;
}
