import { displayKey, generateApiKey, hashApiKey, keyMatchesHash, parseApiKey } from './api-key';
import { hasScope, parseScopes } from './scopes';

describe('API keys', () => {
  it('generates distinct high-entropy keys whose id is parseable and whose hash is SHA-256 of the key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^spk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(a.key)).toEqual({ id: a.id });
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).not.toContain(a.key.split('_')[2]);
  });
  it('refuses malformed keys before any lookup', () => {
    const { key } = generateApiKey();
    for (const bad of ['', 'spk_', key.slice(0, -1), `${key}x`, key.replace('spk_', 'sk_'), key.toUpperCase(), ` ${key}`, `${key}\n`]) expect(parseApiKey(bad)).toBeUndefined();
  });
  it('matches a key only against its own hash', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(keyMatchesHash(a.key, a.hash)).toBe(true);
    expect(keyMatchesHash(b.key, a.hash)).toBe(false);
    expect(keyMatchesHash(a.key, 'not-hex')).toBe(false);
  });
  it('displays the id, never the secret', () => {
    const a = generateApiKey();
    expect(displayKey(a.id)).toBe(`spk_${a.id}_…`);
  });
});

describe('scopes', () => {
  it('parses a comma-separated list, deduplicated', () => {
    expect(parseScopes('search, analytics,search')).toEqual(['search', 'analytics']);
  });
  it('names unknown scopes and the valid ones', () => {
    expect(() => parseScopes('search,write')).toThrow('unknown scope "write"; choose from search, analytics, ingest, admin');
    expect(() => parseScopes(' , ')).toThrow(/no scopes given/);
  });
  it('grants a scope when held, and every scope to admin', () => {
    expect(hasScope(['search'], 'search')).toBe(true);
    expect(hasScope(['search'], 'analytics')).toBe(false);
    expect(hasScope(['ingest'], 'search')).toBe(false);
    for (const s of ['search', 'analytics', 'ingest', 'admin'] as const) expect(hasScope(['admin'], s)).toBe(true);
  });
});
