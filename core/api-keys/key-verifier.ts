import { PipelineError } from '../errors';
import { keyMatchesHash, parseApiKey } from './api-key';
import type { ApiKeyRecord, ApiKeyStore } from './key-store';
import type { Scope } from './scopes';

/** Who a verified key speaks for. */
export interface VerifiedKey {
  keyId: string;
  tenant: string;
  scopes: readonly Scope[];
}

/**
 * Why a key was refused, with the HTTP status each service answers: 401 for a missing or bad
 * key, 503 when the store cannot be read (fail closed). Each service maps it to its own error
 * type, so the codes and messages stay the same across the API and the ingest intake.
 */
export class KeyAuthError extends PipelineError {
  constructor(readonly status: 401 | 503, code: string, message: string) {
    super(message, { code, retriable: status === 503 });
  }
}

export const unauthorized = (code: string, message: string): KeyAuthError => new KeyAuthError(401, code, message);

export interface KeyVerifierOptions {
  /** How long a record read from the store is trusted (API_KEY_CACHE_MS): the bound on revocation. */
  cacheMs: number;
  /** Bound on cached records; the cache is cleared when it is reached. Default: 10000. */
  maxCached?: number;
  now?: () => number;
}

/**
 * Presented key → VerifiedKey, or a KeyAuthError that says what is wrong. A record read from the
 * store is trusted for `cacheMs`: that bounds both the Redis reads per request and how long a
 * revoked key keeps working. Failures are never cached, so a new key works at once. If the store
 * cannot be read and no fresh record is cached, the request is refused (503): a key store outage
 * must not turn into open access.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, { record: ApiKeyRecord; expires: number }>();

  constructor(private readonly store: ApiKeyStore, private readonly opts: KeyVerifierOptions) {}

  async verify(key: string): Promise<VerifiedKey> {
    const parsed = parseApiKey(key);
    if (!parsed) throw unauthorized('API_KEY_INVALID', 'the API key is malformed; pass the whole key printed by `npm run api-keys -- create` (spk_…)');
    const record = await this.lookup(parsed.id);
    if (!record || !keyMatchesHash(key, record.hash)) throw unauthorized('API_KEY_INVALID', 'the API key is not valid; check it was copied whole, or create one with `npm run api-keys -- create`');
    if (record.revokedAt) throw unauthorized('API_KEY_REVOKED', `the API key ${record.id} was revoked at ${record.revokedAt}; use another key`);
    return { keyId: record.id, tenant: record.tenant, scopes: record.scopes };
  }

  /**
   * The key `id` names, through the same cache and with the same refusals as a presented key:
   * how a browser key's parent is checked, so revoking the parent stops its browser keys within
   * `cacheMs` and a browser key costs no more Redis reads than its parent would.
   */
  async verifyId(id: string): Promise<VerifiedKey> {
    const record = await this.lookup(id);
    if (!record) throw unauthorized('API_KEY_INVALID', `the parent API key ${id} of this browser key does not exist; mint browser keys from a current key`);
    if (record.revokedAt) throw unauthorized('API_KEY_REVOKED', `the parent API key ${record.id} of this browser key was revoked at ${record.revokedAt}; mint one from a current key`);
    return { keyId: record.id, tenant: record.tenant, scopes: record.scopes };
  }

  private async lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.cache.get(id);
    if (hit && hit.expires > now) return hit.record;
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.store.find(id);
    } catch {
      throw new KeyAuthError(503, 'AUTH_UNAVAILABLE', 'API keys cannot be checked right now (the key store is unreachable); retry shortly');
    }
    if (record && this.opts.cacheMs > 0) {
      if (this.cache.size >= (this.opts.maxCached ?? 10_000)) this.cache.clear();
      this.cache.set(id, { record, expires: now + this.opts.cacheMs });
    } else this.cache.delete(id);
    return record;
  }
}

/**
 * The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>` (header values
 * as received, '' when absent). Throws a 401 KeyAuthError when there is none, or two that differ.
 */
export function presentedKey(authorization: string, xApiKey: string): string {
  const apiKey = xApiKey.trim();
  let bearer: string | undefined;
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw unauthorized('AUTH_SCHEME_INVALID', 'the Authorization header must be "Bearer <API key>"');
    bearer = m[1];
  }
  if (bearer && apiKey && bearer !== apiKey) throw unauthorized('API_KEY_AMBIGUOUS', 'Authorization and X-API-Key carry different keys; send one key');
  const key = bearer ?? apiKey;
  if (!key) throw unauthorized('API_KEY_MISSING', 'this route needs an API key: send "Authorization: Bearer <key>" (or "X-API-Key: <key>"); create one with `npm run api-keys -- create`');
  return key;
}

/** The 403 message of a key without the scope a route needs. */
export function missingScopeMessage(keyId: string, granted: readonly Scope[], needed: Scope): string {
  return `the API key ${keyId} lacks the "${needed}" scope this route needs (it has ${granted.join(', ') || 'none'}); use a key with that scope`;
}
