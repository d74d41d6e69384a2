import { loadIntakeAuthConfig } from './intake-auth';

describe('intake API-key config', () => {
  it('is off by default and then needs no Redis', () => {
    expect(loadIntakeAuthConfig({})).toEqual({ mode: 'off' });
  });
  it('reads the API\'s key store settings with API_AUTH=keys, and needs Redis', () => {
    expect(loadIntakeAuthConfig({ API_AUTH: 'keys', REDIS_URL: 'redis://h:1' })).toEqual({ mode: 'keys', redisUrl: 'redis://h:1', redisPrefix: 'search-pipeline:', keyCacheMs: 5000 });
    expect(loadIntakeAuthConfig({ API_AUTH: 'keys', REDIS_URL: 'redis://h:1', API_REDIS_URL: 'redis://k:2', API_REDIS_PREFIX: 'p:', API_KEY_CACHE_MS: '0' })).toEqual({ mode: 'keys', redisUrl: 'redis://k:2', redisPrefix: 'p:', keyCacheMs: 0 });
    expect(() => loadIntakeAuthConfig({ API_AUTH: 'keys' })).toThrow(/API_AUTH=keys needs REDIS_URL .*event intake/);
    expect(() => loadIntakeAuthConfig({ API_AUTH: 'on' })).toThrow('API_AUTH="on" is not one of keys, off.');
  });
});
