import request from 'supertest';
import { parsePipelineConfig } from '../../config/pipeline';
import { generateApiKey } from '../../core/api-keys/api-key';
import type { ApiKeyRecord, ApiKeyStore } from '../../core/api-keys/key-store';
import type { Scope } from '../../core/api-keys/scopes';
import { KeyVerifier } from '../../core/api-keys/key-verifier';
import { intakeTestApp, orderEvent } from './testing';

class MapStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  down = false;
  async find(id: string): Promise<ApiKeyRecord | undefined> {
    if (this.down) throw new Error('ECONNREFUSED');
    return this.records.get(id);
  }
  add(tenant: string, scopes: Scope[]): string {
    const { id, key, hash } = generateApiKey();
    this.records.set(id, { id, hash, tenant, scopes, name: '', createdAt: '2026-11-23T00:00:00Z' });
    return key;
  }
}

const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
  orders: { table: 'public.orders', tenantField: 'org', fields: { title: { type: 'text', searchable: true }, org: { type: 'keyword' } } },
} }));

function app() {
  const store = new MapStore();
  const t = intakeTestApp({ pipeline, auth: { mode: 'keys', verifier: new KeyVerifier(store, { cacheMs: 0 }) } });
  return { ...t, store, http: request(t.app.callback()) };
}
const send = (http: ReturnType<typeof request>, key: string | undefined, body: unknown) => {
  const req = http.post('/v1/events').set('content-type', 'application/json');
  return (key ? req.set('Authorization', `Bearer ${key}`) : req).send(JSON.stringify(body));
};

describe('POST /v1/events with API_AUTH=keys', () => {
  it('401s a missing or unknown key, 403s a key without the ingest scope, in the API\'s error shape; probes stay open', async () => {
    const { http, store, publisher } = app();
    const missing = await send(http, undefined, orderEvent(1, { key: { org: 'a', id: '1' } }));
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(missing.body).toEqual({ error: { code: 'API_KEY_MISSING', message: expect.stringMatching(/needs an API key/) } });
    expect((await send(http, generateApiKey().key, orderEvent(1))).body.error.code).toBe('API_KEY_INVALID');
    const search = await send(http, store.add('a', ['search', 'analytics']), orderEvent(1));
    expect(search.status).toBe(403);
    expect(search.body).toEqual({ error: { code: 'SCOPE_MISSING', message: expect.stringMatching(/lacks the "ingest" scope .* \(it has search, analytics\)/) } });
    expect((await http.get('/healthz')).status).toBe(200);
    store.down = true;
    const down = await send(http, store.add('a', ['ingest']), orderEvent(1));
    expect([down.status, down.headers['retry-after'], down.body.error.code]).toEqual([503, '1', 'AUTH_UNAVAILABLE']);
    expect(publisher.events).toEqual([]);
  });

  it('writes for the key\'s tenant only (admin included): its own rows pass with the tenant recorded, another tenant\'s are refused', async () => {
    const { http, store, publisher } = app();
    const a = store.add('a', ['ingest']);
    const ok = await send(http, a, orderEvent(1, { key: { org: 'a', id: '1' }, after: { id: '1', title: 'mine' } }));
    expect(ok.status).toBe(200);
    expect(JSON.parse(publisher.events[0]!.value).after).toEqual({ id: '1', title: 'mine', org: 'a' });
    for (const key of [a, store.add('a', ['admin'])]) {
      const other = await send(http, key, orderEvent(2, { key: { org: 'b', id: '2' }, after: { id: '2', org: 'b' } }));
      expect(other.status).toBe(400);
      expect(other.body.error.details.lines).toEqual([{ line: 1, reason: 'TENANT_FORBIDDEN', problems: [expect.stringMatching(/^\/key\/org is "b"/), expect.stringMatching(/^\/after\/org is "b"/)] }]);
    }
    expect(publisher.events).toHaveLength(1);
  });
});
