import { createHmac } from 'node:crypto';
import { BrowserKeyError, mintBrowserKey, verifyBrowserKey, type BrowserKeyClaims } from './browser-key';

const SECRET = 's'.repeat(40);
const NOW = Date.parse('2026-12-01T12:00:00Z');
const claims: BrowserKeyClaims = { parent: '0123456789abcdef', tenant: 'acme', indexes: ['software'], filter: 'system:nes', expiresAt: NOW / 1000 + 600 };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof BrowserKeyError) return err.code;
    throw err;
  }
  return 'accepted';
}

/** Flips one character of the claims part (keeping it base64url) and keeps the old signature. */
function withClaims(key: string, edit: (c: Record<string, unknown>) => void): string {
  const [body, sig] = key.slice(4).split('.') as [string, string];
  const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(c);
  return `spb_${Buffer.from(JSON.stringify(c)).toString('base64url')}.${sig}`;
}

describe('browser keys: mint and verify', () => {
  it('gives back exactly the claims it was minted with, until it expires', () => {
    const key = mintBrowserKey(SECRET, claims);
    expect(key).toMatch(/^spb_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyBrowserKey(SECRET, key, NOW)).toEqual(claims);
    expect(verifyBrowserKey(SECRET, key, NOW + 599_000)).toEqual(claims);
    expect(refusal(() => verifyBrowserKey(SECRET, key, NOW + 600_000))).toBe('API_KEY_EXPIRED');
  });

  it('refuses a key whose claims were changed: another filter, no filter, more indexes, another tenant, a later expiry', () => {
    const key = mintBrowserKey(SECRET, claims);
    const edits: Array<(c: Record<string, unknown>) => void> = [
      (c) => void (c.filter = 'system:nes,snes'),
      (c) => void delete c.filter,
      (c) => void (c.indexes = ['software', 'titles']),
      (c) => void (c.tenant = 'globex'),
      (c) => void (c.expiresAt = (c.expiresAt as number) + 86_400),
    ];
    for (const edit of edits) expect(refusal(() => verifyBrowserKey(SECRET, withClaims(key, edit), NOW))).toBe('API_KEY_INVALID');
  });

  it('refuses a changed or cut signature, another secret, and malformed keys', () => {
    const key = mintBrowserKey(SECRET, claims);
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of [`${key.slice(0, -1)}${last}`, key.slice(0, -5), `${key}.x`, key.replace('.', ''), 'spb_', 'spb_.', `spb_${'A'.repeat(5000)}.x`]) {
      expect(refusal(() => verifyBrowserKey(SECRET, bad, NOW))).toBe('API_KEY_INVALID');
    }
    expect(refusal(() => verifyBrowserKey('t'.repeat(40), key, NOW))).toBe('API_KEY_INVALID');
  });

  it('refuses well-signed claims of the wrong shape: extra members (scopes), no or odd indexes, bad tenant, parent, filter, expiry', () => {
    // Signs any JSON as mint does, so only the shape check stands between it and a Principal.
    const sign = (c: unknown) => {
      const body = Buffer.from(JSON.stringify(c)).toString('base64url');
      return `spb_${body}.${createHmac('sha256', SECRET).update('spb1.').update(body).digest('base64url')}`;
    };
    expect(verifyBrowserKey(SECRET, sign(claims), NOW)).toEqual(claims);
    const bad: unknown[] = [
      { ...claims, scopes: ['admin'] },
      { ...claims, indexes: [] },
      { ...claims, indexes: ['_all'] },
      { ...claims, indexes: ['*'] },
      { ...claims, tenant: '' },
      { ...claims, parent: 'nope' },
      { ...claims, filter: 42 },
      { ...claims, expiresAt: '9999999999' },
      [claims],
      null,
    ];
    for (const c of bad) expect([c, refusal(() => verifyBrowserKey(SECRET, sign(c), NOW))]).toEqual([c, 'API_KEY_INVALID']);
  });

  it('refuses to mint malformed claims', () => {
    expect(() => mintBrowserKey(SECRET, { ...claims, indexes: [] })).toThrow(/malformed/);
    expect(() => mintBrowserKey(SECRET, { ...claims, filter: 'x'.repeat(1001) })).toThrow(/malformed/);
  });
});
