import type { Context } from 'koa';
import { SCOPES, type Scope } from '../../core/api-keys/scopes';

/** Who is calling: set on ctx.state by the auth middleware, read by routes. */
export interface Principal {
  /** The key id (`anonymous` when API_AUTH=off); a label in logs, metrics and rate-limit buckets. */
  keyId: string;
  /** The tenant whose documents the caller may read; undefined only with API_AUTH=off. */
  tenant: string | undefined;
  scopes: readonly Scope[];
  /** Set for a browser key (auth/browser-keys.ts): what it may search, beyond its tenant. */
  restriction?: Restriction;
}

/** What a browser key adds to its tenant: the only indexes it reaches and a filter on each query. */
export interface Restriction {
  indexes: readonly string[];
  /** ANDed with every query the key makes (search, suggest); undefined: none. */
  filter: string | undefined;
  /** Unix seconds. */
  expiresAt: number;
}

/** API_AUTH=off: one trusted caller with every scope and no tenant restriction. */
export const ANONYMOUS: Principal = Object.freeze({ keyId: 'anonymous', tenant: undefined, scopes: SCOPES });

/**
 * Fails closed: a route reached without the auth middleware having run is a wiring bug, and
 * answering it as an unrestricted caller would leak every tenant's data.
 */
export function principalOf(ctx: Context): Principal {
  const p = (ctx.state as { principal?: Principal }).principal;
  if (!p) throw new Error(`no principal for ${ctx.method} ${ctx.path}: the auth middleware did not run`);
  return p;
}

export function setPrincipal(ctx: Context, p: Principal): void {
  (ctx.state as { principal?: Principal }).principal = p;
}

/** The caller's tenant, for everything keyed per tenant (the result cache, cursors); '' when unrestricted. */
export function tenantOf(ctx: Context): string {
  return principalOf(ctx).tenant ?? '';
}
