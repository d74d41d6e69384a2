import { createHmac, timingSafeEqual } from 'node:crypto';
import { TENANT_PATTERN } from './key-store';

/**
 * Browser keys: short-lived search keys a page may hold, like Meilisearch's tenant tokens and
 * Typesense's scoped keys. A server that holds an API key mints one per visitor (POST
 * /v1/browser-keys or `npm run api-keys -- browser-key`); the key names its parent API key, the
 * parent's tenant, the indexes it may search, an optional filter that every query it makes is
 * ANDed with, and when it expires. It is signed with HMAC-SHA-256 under the server secret
 * API_BROWSER_KEY_SECRET, so the API checks it without asking Redis; only the parent's
 * revocation is read from the key store (through the API_KEY_CACHE_MS cache of every key).
 *
 *   spb_<base64url(claims JSON)>.<base64url(HMAC(secret, "spb1." + claims part))>
 *
 * The claims are readable by whoever holds the key (the browser): they hold nothing secret.
 */
export const BROWSER_KEY_PREFIX = 'spb_';

export interface BrowserKeyClaims {
  /** The parent API key's id: revoking it revokes every browser key minted from it. */
  parent: string;
  tenant: string;
  /** Index names this key may search; at least one. */
  indexes: string[];
  /** Filter (the search filter syntax) ANDed with every query; undefined: none. */
  filter?: string;
  /** Expiry, Unix seconds. */
  expiresAt: number;
}

/** Limits that keep a key short enough for a header (Node allows 16 KiB of them). */
export const MAX_BROWSER_KEY_INDEXES = 20;
export const MAX_BROWSER_KEY_FILTER_CHARS = 1_000;
const MAX_TOKEN_CHARS = 4_096;
const SIGNING_CONTEXT = 'spb1.';
const INDEX_NAME = /^[a-z][a-z0-9_-]{0,62}$/; // as the pipeline config names indexes
const KEY_ID = /^[0-9a-f]{16}$/;

/** Why a browser key was refused; the API answers 401 with `code`. */
export class BrowserKeyError extends Error {
  constructor(readonly code: 'API_KEY_INVALID' | 'API_KEY_EXPIRED', message: string) {
    super(message);
  }
}

export function mintBrowserKey(secret: string, claims: BrowserKeyClaims): string {
  const checked = checkClaims(claims);
  if (!checked) throw new Error('browser key claims are malformed (parent id, tenant, 1-20 index names, filter of at most 1000 characters, integer expiry)');
  const body = Buffer.from(JSON.stringify(checked), 'utf8').toString('base64url');
  return `${BROWSER_KEY_PREFIX}${body}.${sign(secret, body)}`;
}

export const isBrowserKey = (key: string): boolean => key.startsWith(BROWSER_KEY_PREFIX);

/**
 * The claims of a browser key signed with `secret` that has not expired at `nowMs`, or a
 * BrowserKeyError. The signature is checked before anything in the key is parsed.
 */
export function verifyBrowserKey(secret: string, key: string, nowMs: number): BrowserKeyClaims {
  const invalid = new BrowserKeyError('API_KEY_INVALID', 'the browser key is not valid (altered, cut short, or signed with another API_BROWSER_KEY_SECRET); mint a new one');
  if (key.length > MAX_TOKEN_CHARS || !isBrowserKey(key)) throw invalid;
  const [body, signature, ...extra] = key.slice(BROWSER_KEY_PREFIX.length).split('.');
  if (!body || !signature || extra.length) throw invalid;
  const expected = Buffer.from(sign(secret, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const claims = checkClaims(parsed);
  if (!claims) throw invalid;
  if (claims.expiresAt * 1000 <= nowMs) {
    throw new BrowserKeyError('API_KEY_EXPIRED', `the browser key expired at ${new Date(claims.expiresAt * 1000).toISOString()}; mint a new one from its parent key`);
  }
  return claims;
}

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(SIGNING_CONTEXT).update(body).digest('base64url');
}

/** The claims in canonical shape (only known members), or undefined when anything is off. */
function checkClaims(value: unknown): BrowserKeyClaims | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const c = value as Record<string, unknown>;
  const known = new Set(['parent', 'tenant', 'indexes', 'filter', 'expiresAt']);
  if (Object.keys(c).some((k) => !known.has(k))) return undefined;
  if (typeof c.parent !== 'string' || !KEY_ID.test(c.parent)) return undefined;
  if (typeof c.tenant !== 'string' || !TENANT_PATTERN.test(c.tenant)) return undefined;
  if (!Array.isArray(c.indexes) || !c.indexes.length || c.indexes.length > MAX_BROWSER_KEY_INDEXES) return undefined;
  if (!c.indexes.every((i): i is string => typeof i === 'string' && INDEX_NAME.test(i))) return undefined;
  if (c.filter !== undefined && (typeof c.filter !== 'string' || c.filter.length > MAX_BROWSER_KEY_FILTER_CHARS)) return undefined;
  if (typeof c.expiresAt !== 'number' || !Number.isSafeInteger(c.expiresAt) || c.expiresAt <= 0) return undefined;
  const filter = typeof c.filter === 'string' && c.filter.trim() ? c.filter : undefined;
  return { parent: c.parent, tenant: c.tenant, indexes: [...new Set(c.indexes)], ...(filter ? { filter } : {}), expiresAt: c.expiresAt };
}
