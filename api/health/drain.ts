import type Koa from 'koa';
import type { ReadinessCheck } from './readiness';

/**
 * Graceful drain behind a load balancer: once started, /readyz fails (so the balancer's health
 * check takes this instance out) while requests are still served, and every answer says
 * `Connection: close` so keep-alive clients reconnect through the balancer to an instance that
 * stays. main.ts closes the listener after API_DRAIN_DELAY_MS; requests in flight then finish.
 */
export function createDrain(): { check: ReadinessCheck; middleware: Koa.Middleware; start: () => void; draining: () => boolean } {
  let draining = false;
  return {
    check: { name: 'draining', failure: 'this instance is shutting down', ready: async () => !draining },
    middleware: async (ctx, next) => {
      await next();
      if (draining) ctx.set('Connection', 'close');
    },
    start: () => {
      draining = true;
    },
    draining: () => draining,
  };
}
