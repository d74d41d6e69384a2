import { Client } from 'pg';
import { loadIngestConfig } from '../config';
import { loadIntakeAuthConfig } from '../config/intake-auth';
import { loadPipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { createLogger } from '../core/logger';
import { handleSignals, onceClose } from '../core/lifecycle';
import { startMetricsServer } from '../core/metrics-server';
import { errorMessage } from '../core/errors';
import { createIngest } from './ingest-service';
import { startIntakeServer, type IntakeServer } from './intake/intake-server';
import { refusePublishedUpstreamTables, splitPipeline } from './intake/upstream-tables';
import { createIngestMetrics } from './metrics';
import { createTracing } from '../core/tracing';

async function main(): Promise<void> {
  const config = loadIngestConfig();
  const log = createLogger('ingest', config.logLevel);
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  // Read before anything starts, so a bad API_AUTH stops ingest at once; not needed without the intake.
  const intakeAuth = config.httpPort > 0 ? loadIntakeAuthConfig() : ({ mode: 'off' } as const);
  // Tables fed by POST /v1/events are not captured from Postgres: one version space per table.
  const { captured, upstream } = splitPipeline(pipeline, config.httpTables);
  const db = new Client({ connectionString: config.databaseUrl });
  await db.connect();
  await refusePublishedUpstreamTables(db, config.publicationName, upstream);
  const metrics = createIngestMetrics();
  const tracing = createTracing(config.tracing, 'ingest');
  let healthy = true;
  // A failed stream or publish ends the process: a supervisor restarts it, and it resumes from the slot's confirmed LSN.
  const onFatal = (err: unknown): void => {
    healthy = false;
    metrics.errors.inc({ kind: 'fatal' });
    log.error('ingest stopped on an error; restart resumes from the last confirmed commit', { err, message: errorMessage(err) });
    void close().finally(() => process.exit(1));
  };
  const ingest = captured.indexes.length === 0 ? undefined : createIngest({ config, pipeline: captured, kafka: createKafka(config.kafkaBrokers, 'ingest', log, config.kafkaSecurity), db, metrics, log, onFatal, tracing });
  const server = await startMetricsServer(metrics.registry, config.metricsPort, () => {
    if (!healthy) return false;
    const problems = ingest?.problems() ?? [];
    const role = ingest?.role();
    return problems.length ? { status: 'degraded', problems, role } : { status: 'ok', role };
  });
  let intake: IntakeServer | undefined = undefined; // set once ingest started
  const starting = new AbortController(); // a stop while the intake waits for Kafka ends the wait
  const close = onceClose(
    [
      ['starting', () => starting.abort()],
      // The intake first: requests in flight still get Kafka's answer before the producers go.
      ['intake', () => intake?.close()],
      ['ingest', () => ingest?.close()],
      ['db', () => db.end()],
      ['metrics', () => new Promise<void>((r) => (server ? server.close(() => r()) : r()))],
      // Last: the spans of everything above are exported before the process ends.
      ['tracing', () => tracing.shutdown()],
    ],
    log,
  );
  handleSignals(close, log);
  if (ingest) {
    if (!(await ingest.start())) return; // stopped while standby
  } else log.warn('no table of the pipeline config is captured from Postgres (all are in INGEST_HTTP_TABLES); only the event intake runs');
  intake = await startIntakeServer({ config, auth: intakeAuth, pipeline, kafka: createKafka(config.kafkaBrokers, 'ingest-intake', log, config.kafkaSecurity), registry: metrics.registry, log: log.child('intake'), signal: starting.signal, tracing });
  log.info('ingest ready', { slot: config.slotName, publication: config.publicationName, tables: captured.indexes.map((i) => `${i.source.schema}.${i.source.table}`), upstream });
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
