import Router from '@koa/router';
import Koa from 'koa';
import type { PipelineConfig } from '../../config/pipeline';
import { ConfigError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { eventsRoute } from './events-route';
import { intakeAuthMiddleware, type IntakeAuth } from './intake-auth';
import { intakeErrorMiddleware } from './intake-error';
import type { IntakeMetrics } from './intake-metrics';
import type { IntakePublisher } from './intake-publisher';
import { tenantColumns } from './tenant-check';

export interface IntakeAppDeps {
  pipeline: PipelineConfig;
  topicPrefix: string;
  /** `schema.table` of the tables that take events over HTTP (INGEST_HTTP_TABLES). */
  httpTables: readonly string[];
  publisher: IntakePublisher;
  /** API keys (API_AUTH): who may send events, and for which tenant. */
  auth: IntakeAuth;
  metrics: IntakeMetrics;
  log: Logger;
  /** Largest body, bytes after decompression (INGEST_HTTP_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Largest Kafka record, key + value bytes (INGEST_HTTP_MAX_EVENT_BYTES). */
  maxEventBytes: number;
  /** Events per Kafka send (INGEST_BATCH_MAX_EVENTS). */
  batchMaxEvents: number;
  /** Validated events held in memory per request before spooling to a temporary file, bytes. Default: 8 MiB. */
  spoolMemoryBytes?: number;
}

/** Tables of the pipeline config, and the subset that takes HTTP events; refuses a listed table the pipeline does not know. */
export function intakeTables(pipeline: PipelineConfig, httpTables: readonly string[]): { configured: Set<string>; accepted: Set<string> } {
  const configured = new Set(pipeline.indexes.map((i) => `${i.source.schema}.${i.source.table}`));
  const unknown = httpTables.filter((t) => !configured.has(t));
  if (unknown.length) {
    throw new ConfigError(`INGEST_HTTP_TABLES names ${unknown.join(', ')}, which the pipeline config (${pipeline.file}) does not have; use tables among: ${[...configured].join(', ')}`, { variable: 'INGEST_HTTP_TABLES' });
  }
  return { configured, accepted: new Set(httpTables) };
}

/** The intake's Koa app without a socket: intake-server.ts listens, tests use app.callback(). */
export function createIntakeApp(deps: IntakeAppDeps): Koa {
  const app = new Koa();
  const router = new Router();
  app.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/v1/events') deps.metrics.requests.inc({ status: String(ctx.status) });
  });
  app.use(intakeErrorMiddleware(deps.log));
  app.use(intakeAuthMiddleware(deps.auth));
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  eventsRoute(router, {
    check: { topicPrefix: deps.topicPrefix, maxEventBytes: deps.maxEventBytes, ...intakeTables(deps.pipeline, deps.httpTables), tenantColumns: tenantColumns(deps.pipeline) },
    publisher: deps.publisher,
    metrics: deps.metrics,
    log: deps.log,
    maxBodyBytes: deps.maxBodyBytes,
    batchMaxEvents: deps.batchMaxEvents,
    spoolMemoryBytes: deps.spoolMemoryBytes ?? 8 * 1024 ** 2,
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  app.silent = true; // errors are logged by the error middleware
  return app;
}
