import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * What a caller's X-Request-Id may be to be kept: the characters of UUIDs, trace ids and the
 * usual proxy formats, at most 128. Anything else (empty, long, spaces, quotes) is replaced, so a
 * caller cannot make the id a vehicle for whatever it likes in our logs and answers.
 */
const SANE = /^[A-Za-z0-9._:+=/@-]{1,128}$/;

/**
 * Gives every request an id: the caller's X-Request-Id when sane (a proxy's or a client's, so one
 * id follows the request across systems), else a new UUID; answered in the same header and put
 * on ctx.state for the logs of that request.
 */
export function requestIdMiddleware() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const given = ctx.get(REQUEST_ID_HEADER);
    const id = SANE.test(given) ? given : randomUUID();
    (ctx.state as { requestId?: string }).requestId = id;
    ctx.set(REQUEST_ID_HEADER, id);
    await next();
  };
}

/** The request's id; undefined only where requestIdMiddleware did not run (a test app). */
export function requestIdOf(ctx: Context): string | undefined {
  return (ctx.state as { requestId?: string }).requestId;
}
