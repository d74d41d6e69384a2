import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `spk_<id>_<secret>`: `id` (16 hex characters) names the key in listings,
 * logs and metrics and finds its record; `secret` is 32 random bytes. Only SHA-256 of the whole
 * key is stored. A fast hash is enough here, unlike for passwords: with 256 random bits there
 * is nothing to guess, and every request verifies a key, so a slow KDF would only cost latency.
 */
const PREFIX = 'spk';
const KEY_PATTERN = /^spk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  id: string;
  /** The full key: shown to its owner once, never stored. */
  key: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const id = randomBytes(8).toString('hex');
  const key = `${PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key id of a well-formed key, or undefined: malformed input never reaches the store. */
export function parseApiKey(key: string): { id: string } | undefined {
  const m = KEY_PATTERN.exec(key);
  return m ? { id: m[1] as string } : undefined;
}

/** Constant-time comparison of a presented key with a stored hash. */
export function keyMatchesHash(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Short form for listings: the id with the prefix, never any part of the secret. */
export const displayKey = (id: string): string => `${PREFIX}_${id}_…`;
