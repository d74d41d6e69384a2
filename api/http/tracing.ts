import type Koa from 'koa';
import type { Tracing } from '../../core/tracing';

/**
 * One `api.request` span per request, the active context of everything the request does (its
 * cache lookup and Elasticsearch calls become its children: core/tracing.ts). A new trace drawn
 * by TRACING_SAMPLE_RATIO: a client's traceparent header is not followed, so no caller can make
 * the API record every request it sends.
 */
export function tracingMiddleware(tracing: Tracing): Koa.Middleware {
  return (ctx, next) => tracing.inSpan('api.request', { kind: 'server', attributes: { 'http.request.method': ctx.method, 'url.path': ctx.path } }, async (span) => {
    await next();
    const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
    span.setAttributes({ 'http.response.status_code': ctx.status, ...(typeof route === 'string' ? { 'http.route': route } : {}), ...(ctx.status >= 500 ? { error: true } : {}) });
  });
}
