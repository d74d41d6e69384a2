import { generateApiKey } from './api-key';
import type { ApiKeyRecord, ApiKeyStore } from './key-store';
import { KeyAuthError, KeyVerifier, presentedKey } from './key-verifier';

class MapStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  reads = 0;
  down = false;
  async find(id: string): Promise<ApiKeyRecord | undefined> {
    this.reads++;
    if (this.down) throw new Error('ECONNREFUSED');
    return this.records.get(id);
  }
  add(over: Partial<ApiKeyRecord> = {}): string {
    const { id, key, hash } = generateApiKey();
    this.records.set(id, { id, hash, tenant: 'acme', scopes: ['ingest'], name: '', createdAt: '2026-11-23T00:00:00Z', ...over });
    return key;
  }
}

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e instanceof KeyAuthError ? { status: e.status, code: e.code } : e));

describe('API key verification (shared by the API and the ingest intake)', () => {
  it('answers tenant and scopes of a valid key, and 401s a malformed, unknown, tampered or revoked one', async () => {
    const store = new MapStore();
    const key = store.add();
    const revoked = store.add({ revokedAt: '2026-11-23T01:00:00Z' });
    const v = new KeyVerifier(store, { cacheMs: 0 });
    expect(await v.verify(key)).toEqual({ keyId: key.split('_')[1], tenant: 'acme', scopes: ['ingest'] });
    expect(await refusal(v.verify('nope'))).toEqual({ status: 401, code: 'API_KEY_INVALID' });
    expect(await refusal(v.verify(generateApiKey().key))).toEqual({ status: 401, code: 'API_KEY_INVALID' });
    expect(await refusal(v.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`))).toEqual({ status: 401, code: 'API_KEY_INVALID' });
    expect(await refusal(v.verify(revoked))).toEqual({ status: 401, code: 'API_KEY_REVOKED' });
  });

  it('trusts a record for cacheMs, then asks the store again; fails closed (503) when the store is down', async () => {
    const store = new MapStore();
    const key = store.add();
    let now = 0;
    const v = new KeyVerifier(store, { cacheMs: 1000, now: () => now });
    await v.verify(key);
    store.down = true;
    await v.verify(key);
    expect(store.reads).toBe(1);
    now = 1001;
    expect(await refusal(v.verify(key))).toEqual({ status: 503, code: 'AUTH_UNAVAILABLE' });
  });

  it('takes the key from a Bearer header or X-API-Key, and 401s none, two different ones or another scheme', () => {
    expect(presentedKey('Bearer abc', '')).toBe('abc');
    expect(presentedKey('', ' abc ')).toBe('abc');
    expect(presentedKey('bearer abc', 'abc')).toBe('abc');
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as KeyAuthError).code;
      }
      return undefined;
    };
    expect(code(() => presentedKey('', ''))).toBe('API_KEY_MISSING');
    expect(code(() => presentedKey('Basic abc', ''))).toBe('AUTH_SCHEME_INVALID');
    expect(code(() => presentedKey('Bearer abc', 'def'))).toBe('API_KEY_AMBIGUOUS');
  });
});
