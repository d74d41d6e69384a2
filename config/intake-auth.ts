import type { Env } from './env';
import { keyAuthMode, keyCacheMs, loadApiKeysConfig } from './index';

/**
 * API keys on the ingest event intake (POST /v1/events): the same switch, Redis and prefix as the
 * API (API_AUTH, API_REDIS_URL or REDIS_URL, API_REDIS_PREFIX, API_KEY_CACHE_MS), so one key made
 * by `npm run api-keys -- create --scopes ingest` works there. Read only when the intake is on,
 * so an ingest without it needs no Redis whatever API_AUTH says.
 */
export type IntakeAuthConfig = { mode: 'off' } | { mode: 'keys'; redisUrl: string; redisPrefix: string; keyCacheMs: number };

export function loadIntakeAuthConfig(env: Env = process.env): Readonly<IntakeAuthConfig> {
  const mode = keyAuthMode(env, 'the event intake');
  if (mode === 'off') return Object.freeze({ mode });
  return Object.freeze({ mode, ...loadApiKeysConfig(env), keyCacheMs: keyCacheMs(env) });
}
