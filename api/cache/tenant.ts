import type { Context } from 'koa';

/**
 * The tenant part of cache keys. The auth middleware (api/auth) puts the caller's principal on
 * ctx.state; its tenant is undefined for an unrestricted caller (API_AUTH=off), which gets its own
 * key space (`*`), apart from every real tenant. Read structurally so the cache does not depend on
 * how auth is wired; routes without a principal are unrestricted as well. A browser key's filter
 * is part of it too.
 */
export const UNRESTRICTED = '*';

export function cacheTenant(ctx: Context): string {
  const principal = (ctx.state as { principal?: { tenant?: unknown; restriction?: { filter?: unknown } } }).principal;
  const tenant = principal?.tenant;
  if (typeof tenant !== 'string') return UNRESTRICTED;
  // A browser key's filter narrows every answer it gets: keys with one never share entries with
  // keys without, nor with keys of another filter.
  const filter = principal?.restriction?.filter;
  return typeof filter === 'string' ? `t:${tenant}\u0000f:${filter}` : `t:${tenant}`;
}
