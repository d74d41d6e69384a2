import { randomInt } from 'node:crypto';
import request from 'supertest';
import { parsePipelineConfig } from '../../config/pipeline';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { generateApiKey } from '../../core/api-keys/api-key';
import { Authenticator } from '../auth/authenticator';
import type { ApiKeyRecord, ApiKeyStore } from '../../core/api-keys/key-store';
import { createApiMetrics } from '../metrics';
import type { SearchRequest, SearchResult } from '../search/search-backend';
import { FakeBackend } from '../testing/fake-backend';
import { ResultCache } from './result-cache';

/**
 * The cache never hands one tenant's answer to another: the tenant is part of every key. The
 * backend answers with the tenant of the filter the auth layer injected, so a leaked entry shows.
 */
const pipeline = parsePipelineConfig(
  JSON.stringify({ version: 1, indexes: { notes: { table: 'notes', tenantField: 'tenant', fields: { title: { type: 'text', searchable: true }, tenant: { type: 'keyword', filterable: true } } } } }),
);

class TenantEcho extends FakeBackend {
  override async search(_index: unknown, req: SearchRequest): Promise<SearchResult> {
    this.searches.push(req);
    const tenantClause = req.filters.find((f) => f.field === 'tenant');
    const tenant = tenantClause && 'values' in tenantClause ? String(tenantClause.values[0]) : 'none';
    return { total: 1, totalRelation: 'eq', tookMs: 1, hits: [{ id: tenant, score: 1, document: { tenant } }] };
  }
}

class Keys implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  add(tenant: string): string {
    const { id, key, hash } = generateApiKey();
    this.records.set(id, { id, hash, tenant, scopes: ['search', 'analytics'], name: '', createdAt: new Date(0).toISOString() });
    return key;
  }
  async find(id: string) {
    return this.records.get(id);
  }
}

describe('result cache and tenants', () => {
  it('keeps each tenant\'s answers apart, for random tenant pairs, and still shares within a tenant', async () => {
    const keys = new Keys();
    const backend = new TenantEcho();
    const metrics = createApiMetrics();
    const cache = new ResultCache({ maxEntries: 1000, maxBytes: 1e7, ttlMs: 60_000 });
    const http = request(createApp({ pipeline, search: backend, metrics, log: silentLogger, auth: { mode: 'keys', authenticator: new Authenticator(keys, { cacheMs: 0 }) }, cache }).callback());
    const keyOf = new Map<string, string>();
    const key = (t: string) => keyOf.get(t) ?? (keyOf.set(t, keys.add(t)), keyOf.get(t)!);
    for (let round = 0; round < 20; round++) {
      const a = `tenant-${randomInt(1_000)}`;
      let b = `tenant-${randomInt(1_000)}`;
      if (b === a) b = `${a}-other`;
      const q = `/v1/indexes/notes/search?q=report+${randomInt(3)}`;
      for (const t of [a, b, a, b]) {
        const res = await http.get(q).set('Authorization', `Bearer ${key(t)}`);
        expect(res.status).toBe(200);
        expect(res.body.hits.map((h: { document: { tenant: string } }) => h.document.tenant)).toEqual([t]);
      }
    }
    const first = await http.get('/v1/indexes/notes/search?q=same').set('Authorization', `Bearer ${key('tenant-x')}`);
    const again = await http.get('/v1/indexes/notes/search?q=same').set('Authorization', `Bearer ${key('tenant-x')}`);
    expect([first.headers['x-cache'], again.headers['x-cache']]).toEqual(['miss', 'hit']);
  });
});
