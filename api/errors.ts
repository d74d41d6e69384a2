import type { Context, Next } from 'koa';
import type { Logger } from '../core/logger';
import { requestIdOf } from './http/request-id';

/**
 * One error shape for every response: `{ "error": { "code", "message" } }`. 4xx messages say
 * what to fix; 5xx never leak internals (they are logged instead).
 */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/**
 * Seconds a 503 asks the caller to wait (Retry-After), as the event intake does
 * (ingest/intake/intake-error.ts): the outage is ours and retrying later can succeed.
 */
export const RETRY_AFTER_S = 1;

export const badRequest = (code: string, message: string, details?: unknown): ApiError => new ApiError(400, code, message, details);

export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'ROUTE_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}; see /openapi.json`);
      }
      // The router answers an unknown method (TRACE, …) with 501 and a known one on the wrong
      // route with 405, both without a body: the caller's mistake either way, so a 405 that
      // keeps the router's Allow header.
      if ((ctx.status === 405 || ctx.status === 501) && !ctx.body) {
        const allow = ctx.response.get('Allow');
        ctx.status = 405;
        ctx.body = { error: { code: 'METHOD_NOT_ALLOWED', message: `${ctx.method} is not allowed here${allow ? `; use ${allow}` : ''}` } };
      }
    } catch (err) {
      const known = err instanceof ApiError ? err : fromKoa(err);
      if (known) {
        ctx.status = known.status;
        if (known.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_S));
        ctx.body = { error: { code: known.code, message: known.message, ...(known.details === undefined ? {} : { details: known.details }) } };
        return;
      }
      // The id is in the 500's X-Request-Id: what a caller reports is what finds this line.
      log.error('request failed', { requestId: requestIdOf(ctx), method: ctx.method, path: ctx.path, err });
      ctx.status = 500;
      ctx.body = { error: { code: 'INTERNAL', message: 'internal error; it has been logged' } };
    }
  };
}

/** Koa's own client errors (e.g. a malformed URL) carry `status` and `expose`. */
function fromKoa(err: unknown): ApiError | undefined {
  const e = err as { status?: number; expose?: boolean; message?: string };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new ApiError(e.status, 'BAD_REQUEST', e.message ?? 'bad request');
  }
  return undefined;
}
