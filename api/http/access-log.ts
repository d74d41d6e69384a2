import type { Context, Next } from 'koa';
import type { Logger } from '../../core/logger';
import { requestIdOf } from './request-id';

/**
 * One info line per request (API_ACCESS_LOG=1), written after the error middleware settled the
 * status. The path without its query string: search terms can be personal data, and the route
 * plus the request id are what it takes to find a request again.
 */
export function accessLogMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const principal = (ctx.state as { principal?: { keyId?: string } }).principal;
      log.info('request', {
        requestId: requestIdOf(ctx),
        method: ctx.method,
        path: ctx.path,
        route: (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        status: ctx.status,
        ms: Number(process.hrtime.bigint() - start) / 1e6,
        ...(ctx.length !== undefined ? { bytes: ctx.length } : {}),
        ...(principal?.keyId ? { keyId: principal.keyId } : {}),
      });
    }
  };
}
