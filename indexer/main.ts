import { createElasticsearchClient } from '../core/elasticsearch';
import { loadIndexerConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { createKafka } from '../core/kafka';
import { exitAfterClose, failOnUncaught, handleSignals, onceClose } from '../core/lifecycle';
import { createLogger } from '../core/logger';
import { startMetricsServer } from '../core/metrics-server';
import { createIndexer } from './indexer-service';
import { createIndexerMetrics } from './metrics';
import { startAutoReindex } from './reindex/auto-reindex';
import { createTracing } from '../core/tracing';

async function main(): Promise<void> {
  const config = loadIndexerConfig();
  const log = createLogger('indexer', config.logLevel);
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const es = createElasticsearchClient(config.elasticsearch);
  const metrics = createIndexerMetrics();
  let healthy = true;
  // Every way this process fails closes first: close() leaves the Kafka group, so the partitions
  // move to another member at once instead of after the session timeout (docs/operations.md).
  const fail = (err: unknown, what: string): void => {
    healthy = false;
    log.error(`${what}; uncommitted offsets are consumed again after restart`, { message: errorMessage(err), err });
    void exitFailed();
  };
  const onFatal = (err: unknown): void => fail(err, 'indexer stopped on an error');
  const kafka = createKafka(config.kafkaBrokers, 'indexer', log, config.kafkaSecurity);
  const tracing = createTracing(config.tracing, 'indexer');
  const indexer = createIndexer({ config, pipeline, kafka, es, metrics, log, onFatal, tracing });
  let autoReindex: ReturnType<typeof startAutoReindex> | undefined;
  const server = await startMetricsServer(metrics.registry, config.metricsPort, () => healthy);
  const close = onceClose(
    [
      ['auto-reindex', () => autoReindex?.close() ?? Promise.resolve()],
      ['indexer', () => indexer.close()],
      ['es', () => es.close()],
      ['metrics', () => new Promise<void>((r) => (server ? server.close(() => r()) : r()))],
      // Last: the spans of everything above, the final refresh's included, are exported before the process ends.
      ['tracing', () => tracing.shutdown()],
    ],
    log,
  );
  const exitFailed = exitAfterClose(close, log);
  failOnUncaught((err, origin) => fail(err, `indexer stopped on an ${origin}`));
  handleSignals(close, log, 30_000);
  try {
    await indexer.start();
    // After start: the reindex's quiet cut waits for this process's own consumer group to catch up.
    if (config.autoReindex) autoReindex = startAutoReindex({ config, pipeline, kafka, es, log: log.child('reindex') });
  } catch (err) {
    // The consumer may have joined already (its run() joins in the background): leave first.
    process.stderr.write(`indexer failed to start: ${errorMessage(err)}\n`);
    fail(err, 'indexer failed to start');
  }
}

// Only what fails before there is anything to close (config, metrics port) ends up here.
main().catch((err: unknown) => {
  process.stderr.write(`indexer failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
