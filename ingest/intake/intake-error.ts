import type { Context, Next } from 'koa';
import type { Logger } from '../../core/logger';

/**
 * The intake's one error shape, the same as the API's: `{ "error": { "code", "message" } }`,
 * plus `details` where a list helps (the invalid lines of a request). 4xx messages say what to
 * fix; a 503 carries Retry-After because trying again later can succeed; a 500 shows nothing
 * internal (it is logged instead).
 */
export class IntakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { details?: unknown; retryAfterS?: number } = {},
  ) {
    super(message);
  }
}

export function intakeErrorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new IntakeError(404, 'ROUTE_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}; events go to POST /v1/events`);
      if ((ctx.status === 405 || ctx.status === 501) && !ctx.body) {
        const allow = ctx.response.get('Allow');
        ctx.status = 405;
        ctx.body = { error: { code: 'METHOD_NOT_ALLOWED', message: `${ctx.method} is not allowed here${allow ? `; use ${allow}` : ''}` } };
      }
    } catch (err) {
      if (err instanceof IntakeError) {
        ctx.status = err.status;
        if (err.extra.retryAfterS !== undefined) ctx.set('Retry-After', String(err.extra.retryAfterS));
        ctx.body = { error: { code: err.code, message: err.message, ...(err.extra.details === undefined ? {} : { details: err.extra.details }) } };
        return;
      }
      log.error('intake request failed', { method: ctx.method, path: ctx.path, err });
      ctx.status = 500;
      ctx.body = { error: { code: 'INTERNAL', message: 'internal error; it has been logged' } };
    }
  };
}
