import { ConfigError } from '../core/errors';
import { int, optionalStr, str, type Env } from './env';
import { loadApiKeysConfig } from './index';

/**
 * API keys on the ingest event intake (POST /v1/events): the same switch, Redis and prefix as the
 * API (API_AUTH, API_REDIS_URL or REDIS_URL, API_REDIS_PREFIX, API_KEY_CACHE_MS), so one key made
 * by `npm run api-keys -- create --scopes ingest` works there. Read only when the intake is on,
 * so an ingest without it needs no Redis whatever API_AUTH says.
 */
export type IntakeAuthConfig = { mode: 'off' } | { mode: 'keys'; redisUrl: string; redisPrefix: string; keyCacheMs: number };

export function loadIntakeAuthConfig(env: Env = process.env): Readonly<IntakeAuthConfig> {
  const mode = str(env, 'API_AUTH', 'off');
  if (mode === 'off') return Object.freeze({ mode });
  if (mode !== 'keys') throw new ConfigError(`API_AUTH=${JSON.stringify(mode)} is not one of keys, off.`, { variable: 'API_AUTH' });
  if (!optionalStr(env, 'API_REDIS_URL') && !optionalStr(env, 'REDIS_URL')) {
    throw new ConfigError('API_AUTH=keys needs REDIS_URL (or API_REDIS_URL) for the event intake: API keys are stored in Redis. Set it, or API_AUTH=off for a local demo.', { variable: 'REDIS_URL' });
  }
  return Object.freeze({ mode, ...loadApiKeysConfig(env), keyCacheMs: int(env, 'API_KEY_CACHE_MS', 5000, 0, 300_000) });
}
