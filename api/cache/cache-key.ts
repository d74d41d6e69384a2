import { createHash } from 'node:crypto';

/**
 * The cache key of a result: tenant, route, index, the index's watermark generation and the
 * normalised request (parameters parsed, defaults made explicit, in canonical form), so two
 * requests that mean the same thing share an entry, and a change reaching the index (a new
 * generation) makes every older entry unreachable without deleting anything.
 */
export interface CacheKeyParts {
  /** Whose data the answer holds. Part of the key so one tenant can never read another's entry. */
  tenant: string;
  /** The kind of answer (search, analytics, …): the same parameters mean different things per route. */
  route: string;
  index: string;
  /** The index's watermark generation (see freshness/watermark-cache.ts); `none` without a watermark. */
  generation: string;
  /** The parsed request; key order and `undefined` members do not matter. */
  request: unknown;
}

/** Bumped when the cached representation changes shape, so old entries in Redis are not read. */
const FORMAT_VERSION = 'v1';

export function cacheKey(parts: CacheKeyParts): string {
  const digest = createHash('sha256').update(canonicalJson([parts.tenant, parts.route, parts.index, parts.generation, parts.request])).digest('base64url');
  // Readable prefix for operators (`redis-cli --scan --pattern 'search-cache:v1:books:*'`), hash for the rest.
  return `${FORMAT_VERSION}:${parts.route}:${parts.index}:${digest}`;
}

/** JSON with object keys sorted at every depth; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
