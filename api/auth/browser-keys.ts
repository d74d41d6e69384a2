import type { IndexSpec, PipelineConfig } from '../../config/pipeline';
import { MAX_BROWSER_KEY_FILTER_CHARS, MAX_BROWSER_KEY_INDEXES, mintBrowserKey, verifyBrowserKey, type BrowserKeyClaims } from '../../core/api-keys/browser-key';
import { hasScope, type Scope } from '../../core/api-keys/scopes';
import { ApiError, badRequest } from '../errors';
import { resolveIndex } from '../http/request';
import { parseFilter } from '../search/filter';
import type { Principal } from './principal';

/** The only scope a browser key has, whatever its parent's: it is meant to sit in a page. */
export const BROWSER_KEY_SCOPES: readonly Scope[] = Object.freeze(['search'] as const);

export interface BrowserKeyOptions {
  /** API_BROWSER_KEY_SECRET: signs and checks browser keys. */
  secret: string;
  /** API_BROWSER_KEY_MAX_TTL_S: the longest lifetime a browser key may be minted with. */
  maxTtlS: number;
  now?: () => number;
}

/** What a caller asks a browser key for, checked against the pipeline config. */
export interface BrowserKeyRequest {
  indexes: IndexSpec[];
  filter: string | undefined;
  ttlS: number;
}

/**
 * Mints browser keys for a verified parent and turns presented ones into a Principal; the
 * signature and expiry are core/api-keys/browser-key.ts', the parent's revocation is checked by
 * the caller (Authenticator) through the key cache.
 */
export class BrowserKeys {
  constructor(private readonly opts: BrowserKeyOptions) {}

  get maxTtlS(): number {
    return this.opts.maxTtlS;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Claims of a valid, unexpired browser key (throws BrowserKeyError otherwise). */
  verify(key: string): BrowserKeyClaims {
    return verifyBrowserKey(this.opts.secret, key, this.now());
  }

  /** A new key for `parent`: its tenant, at most its scope, never longer than maxTtlS. */
  mint(parent: Principal, req: BrowserKeyRequest): { key: string; claims: BrowserKeyClaims } {
    if (parent.restriction) throw new ApiError(403, 'BROWSER_KEY_CANNOT_MINT', 'a browser key cannot mint browser keys; mint them on your server with its API key');
    if (parent.tenant === undefined) throw new ApiError(409, 'BROWSER_KEYS_DISABLED', 'browser keys need API_AUTH=keys: with API_AUTH=off every caller reads everything without a key');
    if (!hasScope(parent.scopes, 'search')) throw new ApiError(403, 'SCOPE_MISSING', `the API key ${parent.keyId} lacks the "search" scope a browser key is given; mint from a key that has it`);
    if (req.ttlS > this.opts.maxTtlS) throw badRequest('PARAM_INVALID', `expiresInS ${req.ttlS} is longer than API_BROWSER_KEY_MAX_TTL_S (${this.opts.maxTtlS}); mint a shorter-lived key and a new one when it expires`);
    const claims: BrowserKeyClaims = {
      parent: parent.keyId,
      tenant: parent.tenant,
      indexes: req.indexes.map((i) => i.name),
      ...(req.filter ? { filter: req.filter } : {}),
      expiresAt: Math.floor(this.now() / 1000) + req.ttlS,
    };
    return { key: mintBrowserKey(this.opts.secret, claims), claims };
  }

  /** The Principal of a browser key whose parent was verified as `parent`. */
  static principal(claims: BrowserKeyClaims, parent: { keyId: string; tenant: string; scopes: readonly Scope[] }): Principal | undefined {
    // A parent that cannot search (or another tenant's key under the same id) mints nothing valid.
    if (parent.tenant !== claims.tenant || !hasScope(parent.scopes, 'search')) return undefined;
    // One rate-limit bucket and metrics label for all browser keys of a parent, apart from the parent's own.
    return { keyId: `${parent.keyId}.browser`, tenant: claims.tenant, scopes: BROWSER_KEY_SCOPES, restriction: { indexes: claims.indexes, filter: claims.filter, expiresAt: claims.expiresAt } };
  }
}

/**
 * `indexes` (comma-separated names), `filter` and a lifetime → a checked request: every index
 * exists and the filter parses on each of them, so a key is never minted that fails every query.
 */
export function checkBrowserKeyRequest(pipeline: PipelineConfig, indexes: string | undefined, filter: string | undefined, ttlS: number): BrowserKeyRequest {
  const names = [...new Set((indexes ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  if (!names.length) throw badRequest('PARAM_MISSING', `indexes is required: the comma-separated indexes the browser key may search (known: ${pipeline.indexes.map((i) => i.name).join(', ')})`);
  if (names.length > MAX_BROWSER_KEY_INDEXES) throw badRequest('PARAM_INVALID', `indexes names ${names.length} indexes; a browser key takes at most ${MAX_BROWSER_KEY_INDEXES}`);
  const specs = names.map((n) => resolveIndex(pipeline, n));
  const text = filter?.trim() ? filter : undefined;
  if (text && text.length > MAX_BROWSER_KEY_FILTER_CHARS) throw badRequest('FILTER_TOO_LONG', `filter is ${text.length} characters; a browser key's filter takes at most ${MAX_BROWSER_KEY_FILTER_CHARS}`);
  if (text) for (const spec of specs) parseFilter(text, spec);
  return { indexes: specs, filter: text, ttlS };
}
