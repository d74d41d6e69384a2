import { Client as PgClient } from 'pg';
import type { OpsConfig } from '../../config/status';
import { loadPipelineConfig, type PipelineConfig } from '../../config/pipeline';
import { errorMessage } from '../../core/errors';
import { createToolKafka } from '../../core/kafka';
import type { Health, InfraPart, PartBase, StatusReport } from './model';
import { notConfigured } from './model';
import { probeElasticsearch, probeKafka, probePostgres, probeRedis, redact } from './probes-infra';
import { probeErrors } from './probes-errors';
import { probeConsumerLag, probeDeadLetters, probeIndexes, probeProgress, probeSlot, topicsOf } from './probes-pipeline';
import { probeService } from './probes-services';
import { createElasticsearchClient } from '../../core/elasticsearch';

/** Bounds a probe: one that hangs becomes an error saying so, and the others still report. */
async function bounded<T extends PartBase>(ms: number, what: string, run: () => Promise<T>, failed: (error: string) => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([run(), new Promise<T>((resolve) => (timer = setTimeout(() => resolve(failed(`${what}: no answer within ${ms} ms`)), ms)))]);
  } catch (err) {
    return failed(`${what}: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

const down = <T extends object>(base: T) => (error: string): T & PartBase => ({ ...base, health: 'fail', error });

/** Everything `npm run status` shows, each part read independently so one unreachable system does not hide the rest. */
export async function collectStatus(config: OpsConfig, opts: { deadLetters?: number } = {}): Promise<StatusReport> {
  const t = config.timeoutMs;
  let pipeline: PipelineConfig | undefined;
  let pipelineError: string | undefined;
  try {
    pipeline = loadPipelineConfig(config.pipelineConfigPath);
  } catch (err) {
    pipelineError = `pipeline config ${config.pipelineConfigPath}: ${errorMessage(err)}`;
  }
  const [ingest, indexer, api] = await Promise.all([
    probeService('ingest', config.ingestUrl, 'STATUS_INGEST_URL or INGEST_METRICS_PORT', t),
    probeService('indexer', config.indexerUrl, 'STATUS_INDEXER_URL or INDEXER_METRICS_PORT', t),
    probeService('api', config.apiUrl, 'API_URL', t, config.apiMetricsToken),
  ]);

  const db = config.databaseUrl ? new PgClient({ connectionString: config.databaseUrl, connectionTimeoutMillis: t, statement_timeout: t, application_name: 'search-pipeline-status' }) : undefined;
  db?.on('error', () => undefined); // the failing query reports it
  const dbUp = db ? await db.connect().then(() => undefined, (err: unknown) => `Postgres at ${redact(config.databaseUrl!)}: ${errorMessage(err)}`) : 'not configured: set DATABASE_URL';
  const es = config.elasticsearch ? createElasticsearchClient(config.elasticsearch, { requestTimeout: t, maxRetries: 0 }) : undefined;
  const kafka = config.kafkaBrokers ? createToolKafka(config.kafkaBrokers, 'search-pipeline-status', t, config.kafkaSecurity) : undefined;
  const cluster = kafka?.cluster();
  const kafkaUp: PartBase | undefined = cluster ? await bounded<PartBase>(t, `Kafka at ${config.kafkaBrokers!.join(',')}`, async () => (await cluster.topicNames(), { health: 'ok' }), down({})) : undefined;
  try {
    const postgres: InfraPart = !db ? notConfigured('DATABASE_URL') : dbUp ? { health: 'fail', address: redact(config.databaseUrl!), error: dbUp } : await bounded(t, 'Postgres', () => probePostgres(db, redact(config.databaseUrl!)), down({}));
    const pgReady = db && !dbUp ? db : undefined;
    const byIndex = pipeline ? topicsOf(pipeline, config.topicPrefix) : new Map<string, string[]>();
    const topics = [...new Set([...byIndex.values()].flat())];
    const kafkaOk = cluster && kafkaUp?.health === 'ok' ? cluster : undefined;
    const noKafka = (base: object) => (kafka ? down(base)(kafkaUp?.error ?? 'Kafka unreachable') : { ...base, ...notConfigured('KAFKA_BROKERS') });
    const noPipeline = (base: object) => down(base)(pipelineError ?? '');
    const deadLetterTopic = `${config.topicPrefix}.dead-letters`;

    const [kafkaPart, esPart, redis, slot, consumerLag, progress, indexes, deadLetters] = await Promise.all([
      kafka ? (kafkaOk ? bounded(t, 'Kafka', () => probeKafka(kafkaOk, config.kafkaBrokers!.join(',')), down({})) : Promise.resolve({ health: 'fail' as Health, address: config.kafkaBrokers!.join(','), error: kafkaUp?.error })) : Promise.resolve(notConfigured('KAFKA_BROKERS')),
      es ? bounded(t, `Elasticsearch at ${redact(config.elasticsearchUrl!)}`, () => probeElasticsearch(es, redact(config.elasticsearchUrl!)), down({ address: redact(config.elasticsearchUrl!) })) : Promise.resolve(notConfigured('ELASTICSEARCH_URL')),
      config.redisUrl ? probeRedis(config.redisUrl, t) : Promise.resolve(notConfigured('REDIS_URL')),
      pgReady ? bounded(t, 'replication slot', () => probeSlot(pgReady, config.slotName, config.maxSlotLagBytes, ingest.metrics), down({ slot: config.slotName })) : Promise.resolve({ slot: config.slotName, ...(db ? down({})(dbUp ?? '') : notConfigured('DATABASE_URL')) }),
      !pipeline ? Promise.resolve({ group: config.groupId, ...noPipeline({}) }) : kafkaOk ? bounded(t, 'consumer lag', () => probeConsumerLag(kafkaOk, config.groupId, topics, config.maxConsumerLag), down({ group: config.groupId })) : Promise.resolve({ group: config.groupId, ...noKafka({}) }),
      bounded(t, 'progress', () => probeProgress(pgReady, es, config.slotName, ingest.metrics), down({})),
      !pipeline ? Promise.resolve(noPipeline({})) : es ? bounded(t, 'watermarks', () => probeIndexes(es, byIndex, config.maxWatermarkAgeS), down({})) : Promise.resolve(notConfigured('ELASTICSEARCH_URL')),
      kafka && kafkaOk ? bounded(t * 3, 'dead letters', () => probeDeadLetters(kafka, kafkaOk, deadLetterTopic, config.topicPrefix, opts.deadLetters ?? 5, t * 2), down({ topic: deadLetterTopic })) : Promise.resolve({ topic: deadLetterTopic, ...noKafka({}) }),
    ]);
    const errors = probeErrors({ ingest: ingest.metrics, indexer: indexer.metrics, api: api.metrics }, config.logsDir);
    const report: Omit<StatusReport, 'healthy'> = {
      at: new Date().toISOString(),
      services: { ingest: ingest.part, indexer: indexer.part, api: api.part },
      infra: { postgres, kafka: kafkaPart, elasticsearch: esPart, redis },
      slot, consumerLag, progress, indexes, deadLetters, errors,
    };
    return { ...report, healthy: !partsOf(report).some((p) => p.health === 'fail') };
  } finally {
    await db?.end().catch(() => undefined);
    await cluster?.close().catch(() => undefined);
    await es?.close().catch(() => undefined);
  }
}

export function partsOf(r: Omit<StatusReport, 'healthy'>): PartBase[] {
  return [...Object.values(r.services), ...Object.values(r.infra), r.slot, r.consumerLag, r.progress, r.indexes, r.deadLetters, r.errors];
}
