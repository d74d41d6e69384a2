import type { Context } from 'koa';

/**
 * The tenant part of cache keys. The auth middleware (api/auth) puts the caller's principal on
 * ctx.state; its tenant is undefined for an unrestricted caller (API_AUTH=off), which gets its own
 * key space (`*`), apart from every real tenant. Read structurally so the cache does not depend on
 * how auth is wired; routes without a principal are unrestricted as well.
 */
export const UNRESTRICTED = '*';

export function cacheTenant(ctx: Context): string {
  const tenant = (ctx.state as { principal?: { tenant?: unknown } }).principal?.tenant;
  return typeof tenant === 'string' ? `t:${tenant}` : UNRESTRICTED;
}
