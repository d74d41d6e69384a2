import { Client } from '@elastic/elasticsearch';
import { loadIndexerConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { createKafka } from '../core/kafka';
import { handleSignals, onceClose } from '../core/lifecycle';
import { createLogger } from '../core/logger';
import { startMetricsServer } from '../core/metrics-server';
import { createIndexer } from './indexer-service';
import { createIndexerMetrics } from './metrics';
import { startAutoReindex } from './reindex/auto-reindex';

async function main(): Promise<void> {
  const config = loadIndexerConfig();
  const log = createLogger('indexer', config.logLevel);
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const es = new Client({ node: config.elasticsearchUrl });
  const metrics = createIndexerMetrics();
  let healthy = true;
  const onFatal = (err: unknown): void => {
    healthy = false;
    log.error('indexer stopped on an error; uncommitted offsets are consumed again after restart', { message: errorMessage(err), err });
    void close().finally(() => process.exit(1));
  };
  const kafka = createKafka(config.kafkaBrokers, 'indexer', log);
  const indexer = createIndexer({ config, pipeline, kafka, es, metrics, log, onFatal });
  let autoReindex: ReturnType<typeof startAutoReindex> | undefined;
  const server = await startMetricsServer(metrics.registry, config.metricsPort, () => healthy);
  const close = onceClose(
    [
      ['auto-reindex', () => autoReindex?.close() ?? Promise.resolve()],
      ['indexer', () => indexer.close()],
      ['es', () => es.close()],
      ['metrics', () => new Promise<void>((r) => (server ? server.close(() => r()) : r()))],
    ],
    log,
  );
  handleSignals(close, log, 30_000);
  await indexer.start();
  // After start: the reindex's quiet cut waits for this process's own consumer group to catch up.
  if (config.autoReindex) autoReindex = startAutoReindex({ config, pipeline, kafka, es, log: log.child('reindex') });
}

main().catch((err: unknown) => {
  process.stderr.write(`indexer failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
