import { createElasticsearchClient } from '../core/elasticsearch';
import { loadApiConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { handleSignals, onceClose } from '../core/lifecycle';
import { createDrain } from './health/drain';
import { createLogger } from '../core/logger';
import { createApp } from './app';
import { setUpAuth } from './auth/auth-setup';
import { answerClientErrors } from './http/client-error';
import { createCacheRedis } from './cache/redis-client';
import { ResultCache } from './cache/result-cache';
import { RedisStore } from './cache/shared-store';
import { EsPositionsSource } from './freshness/positions-source';
import { WatermarkCache } from './freshness/watermark-cache';
import { createApiMetrics } from './metrics';
import { EsSearchBackend } from './search/es-search-backend';
import { SynonymCache } from './synonyms/synonym-cache';
import { searchPageAssets } from './ui/bundle';
import { EsSynonymStore } from './synonyms/synonym-store';
import { tracedSearchBackend } from './search/traced-search-backend';
import { createTracing } from '../core/tracing';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const log = createLogger('api', config.logLevel);
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  // The client's defaults bound calls the search backend does not set options for (watermark
  // readings): without them a paused Elasticsearch held them 30 s per attempt, 4 attempts.
  const es = createElasticsearchClient(config.elasticsearch, { requestTimeout: config.queryTimeoutMs + 1000, maxRetries: 1 });
  const metrics = createApiMetrics();
  const tracing = createTracing(config.tracing, 'api');
  if (!config.cursorSecret) log.warn('API_CURSOR_SECRET is not set: search cursors only work against this instance; set one shared secret when running several');
  const search = tracedSearchBackend(new EsSearchBackend(es, { timeoutMs: config.queryTimeoutMs, cursorKeepAliveS: config.cursorKeepAliveS, observe: metrics.observeElasticsearch, log }), tracing);
  const cacheRedis = config.redisUrl && config.cacheMaxEntries > 0 ? createCacheRedis(config.redisUrl, log.child('cache')) : undefined;
  if (!cacheRedis && config.cacheMaxEntries > 0) log.warn('no REDIS_URL (or API_REDIS_URL): results are cached in this process only');
  const cache = new ResultCache({
    maxEntries: config.cacheMaxEntries,
    maxBytes: config.cacheMaxBytes,
    ttlMs: config.cacheTtlS * 1000,
    sharedLockWaitMs: config.cacheLockWaitMs,
    events: metrics.cache,
    tracing,
    ...(cacheRedis ? { shared: new RedisStore(cacheRedis, { prefix: `${config.redisPrefix}cache:`, log: log.child('cache'), onError: metrics.cache.redisError }) } : {}),
  });
  const watermarks = new WatermarkCache(new EsPositionsSource(es, config.topicPrefix), {
    refreshMs: config.watermarkRefreshMs,
    log: log.child('watermark'),
    onRead: (index, f) => metrics.watermarkRead(index, f.asOfTime),
  });
  const synonyms = new SynonymCache(new EsSynonymStore(es), { log: log.child('synonyms') });
  const { close: closeAuth, ...auth } = setUpAuth(config, log);
  const drain = createDrain();
  const app = createApp({ tracing, drain, pipeline, search, metrics, log, cursorSecret: config.cursorSecret, maxBodyBytes: config.maxBodyBytes, cache, watermarks, synonyms, consistencyWaitMs: config.consistencyWaitMs, accessLog: config.accessLog, corsOrigins: config.corsOrigins, ...(config.searchPage ? { searchPage: searchPageAssets() } : {}), ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}), ...auth });
  const server = app.listen(config.port, config.host);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject)).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is taken; set API_PORT (or API_URL) to a free port` : err.message);
  });
  const close = onceClose(
    [
      ['drain', async () => {
        // Out of the balancer first (/readyz 503), then stop accepting; in-flight requests finish.
        drain.start();
        log.info('draining: /readyz answers 503 before the listener closes', { drainDelayMs: config.drainDelayMs });
        await new Promise((r) => setTimeout(r, config.drainDelayMs));
      }],
      ['http', () => new Promise<void>((r) => server.close(() => r()))],
      ['auth-redis', closeAuth],
      ['watermarks', () => watermarks.close()],
      ['cache-redis', async () => void (await cacheRedis?.quit())],
      ['es', () => es.close()],
      // Last: the spans of the requests answered while draining are exported too.
      ['tracing', () => tracing.shutdown()],
    ],
    log,
  );
  handleSignals(close, log, config.drainDelayMs + 10_000);
  log.info('api listening', { url: `http://${config.host}:${config.port}` });
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
