import type { Redis } from 'ioredis';
import { generateApiKey } from './api-key';
import { isScope, type Scope } from './scopes';

/**
 * Where API keys live: Redis, beside the rate-limit buckets and the result cache, so the API
 * needs no connection to the source Postgres (the database being replicated, which the API
 * otherwise never touches). Redis holds only hashes; it must persist (AOF or RDB snapshots) in
 * production, as losing it means re-issuing keys.
 *
 *   <prefix>apikey:<id>   hash { hash, tenant, scopes, name, createdAt, revokedAt? }
 *   <prefix>apikeys       set of ids, for listing
 */
export interface ApiKeyRecord {
  id: string;
  hash: string;
  tenant: string;
  scopes: Scope[];
  name: string;
  createdAt: string;
  revokedAt?: string;
}

export interface ApiKeyStore {
  find(id: string): Promise<ApiKeyRecord | undefined>;
}

/** Tenants are labels in metrics and cache keys: keep them short and plain. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class RedisApiKeyStore implements ApiKeyStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** Creates a key and returns it in full: the only time it can be read. */
  async create(opts: { tenant: string; scopes: Scope[]; name?: string; now?: Date }): Promise<{ record: ApiKeyRecord; key: string }> {
    if (!TENANT_PATTERN.test(opts.tenant)) throw new Error(`tenant ${JSON.stringify(opts.tenant)} is invalid; use 1-64 letters, digits, _ . - (starting with a letter or digit)`);
    if (!opts.scopes.length) throw new Error('a key needs at least one scope');
    const { id, key, hash } = generateApiKey();
    const record: ApiKeyRecord = { id, hash, tenant: opts.tenant, scopes: opts.scopes, name: opts.name ?? '', createdAt: (opts.now ?? new Date()).toISOString() };
    await this.redis
      .multi()
      .hset(this.keyOf(id), { hash, tenant: record.tenant, scopes: record.scopes.join(','), name: record.name, createdAt: record.createdAt })
      .sadd(this.setKey(), id)
      .exec();
    return { record, key };
  }

  async find(id: string): Promise<ApiKeyRecord | undefined> {
    return toRecord(id, await this.redis.hgetall(this.keyOf(id)));
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = (await this.redis.smembers(this.setKey())).sort();
    const records = await Promise.all(ids.map((id) => this.find(id)));
    return records.filter((r): r is ApiKeyRecord => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Marks the key revoked (the record stays for audit). False when there is no such key. */
  async revoke(id: string, now = new Date()): Promise<boolean> {
    const record = await this.find(id);
    if (!record) return false;
    if (!record.revokedAt) await this.redis.hset(this.keyOf(id), 'revokedAt', now.toISOString());
    return true;
  }

  private keyOf(id: string): string {
    return `${this.prefix}apikey:${id}`;
  }
  private setKey(): string {
    return `${this.prefix}apikeys`;
  }
}

function toRecord(id: string, h: Record<string, string>): ApiKeyRecord | undefined {
  if (!h.hash || !h.tenant || !h.createdAt) return undefined;
  return {
    id,
    hash: h.hash,
    tenant: h.tenant,
    scopes: (h.scopes ?? '').split(',').filter(isScope),
    name: h.name ?? '',
    createdAt: h.createdAt,
    ...(h.revokedAt ? { revokedAt: h.revokedAt } : {}),
  };
}
