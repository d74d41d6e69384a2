import { loadApiConfig, loadApiKeysConfig } from './index';

const env = { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };

describe('API auth and rate-limit config', () => {
  it('defaults to auth off, 50 requests/s with a burst of 100, 5 s key cache', () => {
    expect(loadApiConfig(env)).toMatchObject({ authMode: 'off', rateLimitPerSec: 50, rateLimitBurst: 100, keyCacheMs: 5000, redisPrefix: 'search-pipeline:' });
  });
  it('needs Redis for keys, and says so', () => {
    expect(() => loadApiConfig({ ...env, API_AUTH: 'keys' })).toThrow(/API_AUTH=keys needs REDIS_URL/);
    expect(loadApiConfig({ ...env, API_AUTH: 'keys', REDIS_URL: 'redis://127.0.0.1:6379' }).authMode).toBe('keys');
  });
  it('names bad values', () => {
    expect(() => loadApiConfig({ ...env, API_AUTH: 'yes' })).toThrow('API_AUTH="yes" is not one of keys, off.');
    expect(() => loadApiConfig({ ...env, API_RATE_LIMIT_BURST: '0' })).toThrow(/API_RATE_LIMIT_BURST=0 is out of range/);
    expect(() => loadApiConfig({ ...env, API_REDIS_PREFIX: 'a b' })).toThrow(/API_REDIS_PREFIX="a b" is not a valid prefix/);
  });
  it('reads the /metrics token, at least 16 characters', () => {
    expect(loadApiConfig(env).metricsToken).toBeUndefined();
    expect(loadApiConfig({ ...env, API_METRICS_TOKEN: 't'.repeat(16) }).metricsToken).toBe('t'.repeat(16));
    expect(() => loadApiConfig({ ...env, API_METRICS_TOKEN: 'short' })).toThrow(/API_METRICS_TOKEN is too short/);
  });
  it('gives the key CLI its Redis', () => {
    expect(loadApiKeysConfig({ REDIS_URL: 'redis://h:1' })).toEqual({ redisUrl: 'redis://h:1', redisPrefix: 'search-pipeline:' });
    expect(() => loadApiKeysConfig({})).toThrow(/REDIS_URL is not set/);
  });
});
