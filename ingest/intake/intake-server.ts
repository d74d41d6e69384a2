import type http from 'node:http';
import type { KafkaClient } from '../../core/kafka-client';
import type { Registry } from 'prom-client';
import type { IngestConfig } from '../../config';
import type { IntakeAuthConfig } from '../../config/intake-auth';
import type { PipelineConfig } from '../../config/pipeline';
import { RedisApiKeyStore } from '../../core/api-keys/key-store';
import { connectKeyStoreRedis } from '../../core/api-keys/key-store-redis';
import { KeyVerifier } from '../../core/api-keys/key-verifier';
import { topicFor } from '../../core/change-event';
import { ensureTopics, warnPartitionMismatch } from '../../core/kafka';
import { untilKafkaAvailable } from '../../core/kafka-unavailable';
import type { Logger } from '../../core/logger';
import { createIntakeApp, intakeTables } from './intake-app';
import type { IntakeAuth } from './intake-auth';
import { createIntakeMetrics } from './intake-metrics';
import { KafkaIntakePublisher } from './kafka-intake-publisher';
import type { Tracing } from '../../core/tracing';

export interface IntakeServer {
  url: string;
  /** Stops accepting, lets requests in flight finish (they answer after Kafka's ack), then disconnects. */
  close(): Promise<void>;
}

/** Starts POST /v1/events when INGEST_HTTP_PORT is set; undefined when the intake is off. */
export async function startIntakeServer(deps: { config: Readonly<IngestConfig>; auth: Readonly<IntakeAuthConfig>; pipeline: PipelineConfig; kafka: KafkaClient; registry: Registry; log: Logger; signal?: AbortSignal; tracing?: Tracing }): Promise<IntakeServer | undefined> {
  const { config, pipeline, log } = deps;
  if (config.httpPort === 0) return undefined;
  const { accepted } = intakeTables(pipeline, config.httpTables);
  if (accepted.size === 0) log.warn('the event intake is on but INGEST_HTTP_TABLES lists no table, so every event will be refused', { port: config.httpPort });
  const topics = [...accepted].map((t) => {
    const [schema, table] = t.split('.') as [string, string];
    return topicFor(config.topicPrefix, { schema, table });
  });
  const publisher = new KafkaIntakePublisher(deps.kafka, topics, deps.tracing);
  await untilKafkaAvailable(async () => {
    // Ingest's CDC part does not create these: the tables are not captured from Postgres.
    if (topics.length) warnPartitionMismatch(await ensureTopics(deps.kafka, topics, config.topicPartitions, { replication: config.topicReplication, log }), config.topicPartitions, log);
    await publisher.connect();
  }, { what: "the event intake's start", log, signal: deps.signal });
  const keys = intakeAuth(deps.auth, log);
  const app = createIntakeApp({
    pipeline,
    topicPrefix: config.topicPrefix,
    httpTables: config.httpTables,
    publisher,
    auth: keys.auth,
    metrics: createIntakeMetrics(deps.registry),
    log,
    maxBodyBytes: config.httpMaxBodyBytes,
    maxEventBytes: config.httpMaxEventBytes,
    batchMaxEvents: config.batchMaxEvents,
  });
  let server: http.Server;
  try {
    server = await new Promise<http.Server>((resolve, reject) => {
      const s = app.listen(config.httpPort, config.httpHost);
      s.once('listening', () => resolve(s)).once('error', (err: NodeJS.ErrnoException) => {
        reject(new Error(err.code === 'EADDRINUSE' ? `port ${config.httpPort} on ${config.httpHost} is taken; set INGEST_HTTP_PORT to a free port` : err.message));
      });
    });
  } catch (err) {
    await publisher.close();
    await keys.close();
    throw err;
  }
  const url = `http://${config.httpHost}:${config.httpPort}`;
  log.info('event intake listening', { url: `${url}/v1/events`, tables: [...accepted] });
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => (closing ??= new Promise<void>((resolve) => server.close(() => resolve())).then(() => publisher.close()).then(() => keys.close())),
  };
}

/** API_AUTH → the intake's key check, and the Redis connection to close with it. */
function intakeAuth(config: Readonly<IntakeAuthConfig>, log: Logger): { auth: IntakeAuth; close: () => Promise<void> } {
  if (config.mode === 'off') {
    log.warn('API_AUTH=off: the event intake checks NO API KEYS; anyone who reaches it writes events for every tenant. Set API_AUTH=keys (keys with the ingest scope) anywhere but a local demo.');
    return { auth: { mode: 'off' }, close: async () => undefined };
  }
  const redis = connectKeyStoreRedis(config.redisUrl, log.child('auth'));
  log.info('event intake requires API keys with the ingest scope', { keyCacheMs: config.keyCacheMs });
  return {
    auth: { mode: 'keys', verifier: new KeyVerifier(new RedisApiKeyStore(redis, config.redisPrefix), { cacheMs: config.keyCacheMs }) },
    close: async () => void (await redis.quit().catch(() => undefined)),
  };
}
