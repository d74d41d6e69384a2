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
  const indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'indexer', log), es, metrics, log, onFatal });
  const server = await startMetricsServer(metrics.registry, config.metricsPort, () => healthy);
  const close = onceClose(
    [
      ['indexer', () => indexer.close()],
      ['es', () => es.close()],
      ['metrics', () => new Promise<void>((r) => (server ? server.close(() => r()) : r()))],
    ],
    log,
  );
  handleSignals(close, log, 30_000);
  await indexer.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`indexer failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
