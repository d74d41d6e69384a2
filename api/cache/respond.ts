import type { Context } from 'koa';
import type { IndexSpec } from '../../config/pipeline';
import { asOfOf } from '../freshness/freshness';
import type { ReadPoint } from '../freshness/read-context';
import { UNAVAILABLE } from '../freshness/watermark-cache';
import { cacheKey } from './cache-key';
import type { CachedResponse, ResultCache } from './result-cache';
import { cacheTenant } from './tenant';

/**
 * An index without a watermark (nothing publishes one for it) gives no signal that it changed, so
 * its answers are kept only briefly: enough to absorb bursts of identical requests.
 */
export const NO_WATERMARK_TTL_MS = 5_000;

/** A rendered 200 answer before freshness fields are added: a JSON object or text (CSV). */
export interface Rendered {
  type: 'json' | string;
  body: unknown;
  headers?: Record<string, string>;
}

export interface CacheDeps {
  cache: ResultCache;
  onResponse?: (route: string, result: 'hit' | 'miss' | 'bypass') => void;
}

export interface Answer {
  route: string;
  index: IndexSpec;
  read: ReadPoint;
  /** The normalised request (the cache key); undefined for answers never cached (cursor pages). */
  request: unknown;
  compute: () => Promise<Rendered>;
}

/**
 * Answers from the result cache when it can, else computes (once for concurrent identical
 * requests) and caches. Every answer carries asOf, stale and cache (JSON body fields and
 * headers); cached ones also an ETag, and a GET with a matching If-None-Match gets a 304.
 */
export async function answer(ctx: Context, deps: CacheDeps, a: Answer): Promise<void> {
  const generation = a.read.freshness.generation;
  if (a.request === undefined || !deps.cache.enabled || generation === UNAVAILABLE) {
    deps.onResponse?.(a.route, 'bypass');
    send(ctx, a.read, render(await a.compute()), 'bypass');
    return;
  }
  const key = cacheKey({ tenant: cacheTenant(ctx), route: a.route, index: a.index.name, generation, request: a.request });
  const found = await deps.cache.getOrCompute(key, a.route, async () => render(await a.compute()), generation === 'none' ? NO_WATERMARK_TTL_MS : undefined);
  deps.onResponse?.(a.route, found.result);
  ctx.set('ETag', found.response.etag);
  // Any change reaching the index changes the answer, and answers are per caller: browsers may
  // keep them but must revalidate (a 304 costs no Elasticsearch query while nothing changed).
  ctx.set('Cache-Control', 'private, no-cache');
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && etagMatches(ctx.get('If-None-Match'), found.response.etag)) {
    setFreshnessHeaders(ctx, a.read, found.result);
    ctx.status = 304;
    ctx.body = null;
    return;
  }
  send(ctx, a.read, found.response, found.result);
}

/** Sets the body (with asOf, stale, cache for JSON) and the freshness headers. */
export function send(ctx: Context, read: ReadPoint, r: Omit<CachedResponse, 'etag'>, cache: 'hit' | 'miss' | 'bypass'): void {
  setFreshnessHeaders(ctx, read, cache);
  for (const [k, v] of Object.entries(r.headers)) ctx.set(k, v);
  ctx.status = 200;
  const json = r.type.startsWith('application/json');
  // Spliced into the cached JSON text rather than parsed and serialised again: a hit stays cheap.
  ctx.body = json ? withFields(r.body, freshnessFields(read, cache)) : r.body;
  ctx.type = r.type;
}

export function freshnessFields(read: ReadPoint, cache: 'hit' | 'miss' | 'bypass'): { asOf: { lsn: string | null; ageMs: number | null }; stale: boolean; cache: string } {
  return { asOf: asOfOf(read.freshness, Date.now()), stale: read.stale, cache };
}

export function setFreshnessHeaders(ctx: Context, read: ReadPoint, cache: 'hit' | 'miss' | 'bypass'): void {
  ctx.set('X-Cache', cache);
  if (read.freshness.lsn !== undefined) ctx.set('X-As-Of-Lsn', read.freshness.lsn.toString());
  ctx.set('X-Stale', String(read.stale));
}

function render(r: Rendered): Omit<CachedResponse, 'etag'> {
  return r.type === 'json'
    ? { type: 'application/json; charset=utf-8', body: JSON.stringify(r.body), headers: r.headers ?? {} }
    : { type: r.type, body: String(r.body), headers: r.headers ?? {} };
}

function withFields(objectJson: string, fields: Record<string, unknown>): string {
  const extra = JSON.stringify(fields).slice(1, -1);
  const inner = objectJson.slice(1, -1).trim();
  return `{${inner}${inner ? ',' : ''}${extra}}`;
}

/** RFC 9110 weak comparison over a list of entity tags, or `*`. */
export function etagMatches(header: string, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}
