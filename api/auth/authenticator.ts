import { ApiError } from '../errors';
import { keyMatchesHash, parseApiKey } from './api-key';
import type { ApiKeyRecord, ApiKeyStore } from './key-store';
import type { Principal } from './principal';

/**
 * Presented key → Principal, or a 401 that says what is wrong. A record read from the store is
 * trusted for `cacheMs` (API_KEY_CACHE_MS): that bounds both the Redis reads per request and how
 * long a revoked key keeps working. Failures are never cached, so a new key works at once.
 * If the store cannot be read and no fresh record is cached, the request is refused (503): a key
 * store outage must not turn into open access.
 */
export interface AuthenticatorOptions {
  cacheMs: number;
  /** Bound on cached records; the cache is cleared when it is reached. Default: 10000. */
  maxCached?: number;
  now?: () => number;
}

export class Authenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord; expires: number }>();

  constructor(private readonly store: ApiKeyStore, private readonly opts: AuthenticatorOptions) {}

  async authenticate(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    if (!parsed) throw unauthorized('API_KEY_INVALID', 'the API key is malformed; pass the whole key printed by `npm run api-keys -- create` (spk_…)');
    const record = await this.lookup(parsed.id);
    if (!record || !keyMatchesHash(key, record.hash)) throw unauthorized('API_KEY_INVALID', 'the API key is not valid; check it was copied whole, or create one with `npm run api-keys -- create`');
    if (record.revokedAt) throw unauthorized('API_KEY_REVOKED', `the API key ${record.id} was revoked at ${record.revokedAt}; use another key`);
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
      throw new ApiError(503, 'AUTH_UNAVAILABLE', 'API keys cannot be checked right now (the key store is unreachable); retry shortly');
    }
    if (record && this.opts.cacheMs > 0) {
      if (this.cache.size >= (this.opts.maxCached ?? 10_000)) this.cache.clear();
      this.cache.set(id, { record, expires: now + this.opts.cacheMs });
    } else this.cache.delete(id);
    return record;
  }
}

export function unauthorized(code: string, message: string): ApiError {
  return new ApiError(401, code, message);
}
