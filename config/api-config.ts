import { int, optionalStr, str, url, type Env } from './env';
import { ConfigError } from '../core/errors';
import type { ElasticsearchConfig } from './elasticsearch';
import { common, elasticsearch, type CommonConfig } from './common-config';

export interface ApiConfig extends CommonConfig {
  /** ELASTICSEARCH_URL as given. */
  elasticsearchUrl: string;
  /** Nodes, credentials, CA bundle (config/elasticsearch.ts). */
  elasticsearch: ElasticsearchConfig;
  host: string;
  port: number;
  /** Longest Elasticsearch query time, ms (API_QUERY_TIMEOUT_MS). Default: 5000. */
  queryTimeoutMs: number;
  /** Largest accepted POST body, bytes after decompression (API_MAX_BODY_BYTES). Default: 65536. */
  maxBodyBytes: number;
  /**
   * Key that signs search cursors (API_CURSOR_SECRET, at least 16 characters). Default: random
   * per process, so cursors only work against the instance that issued them; set one shared
   * value when several API instances sit behind a load balancer.
   */
  cursorSecret: string | undefined;
  /** How long a cursor's point in time stays open between pages, s (API_CURSOR_KEEP_ALIVE_S). Default: 120. */
  cursorKeepAliveS: number;
  /**
   * Redis of the shared result cache (API_REDIS_URL, else REDIS_URL). Default: none, the cache is
   * then in-process only (each API instance caches on its own).
   */
  redisUrl: string | undefined;
  /** Backstop lifetime of a cached result, s (API_CACHE_TTL_S), ± 20% jitter; a watermark change invalidates sooner. Default: 300. */
  cacheTtlS: number;
  /** Entries of the in-process cache level (API_CACHE_MAX_ENTRIES); 0 turns the whole cache off. Default: 5000. */
  cacheMaxEntries: number;
  /** Bytes of cached bodies the in-process level holds at most (API_CACHE_MAX_BYTES). Default: 67108864 (64 MiB). */
  cacheMaxBytes: number;
  /**
   * Cross-instance single-flight (API_CACHE_LOCK_WAIT_MS): on a miss, one API instance claims the
   * key in Redis and queries; the others wait up to this long for its answer, then query anyway.
   * 0 = off (single-flight per instance only). Default: 1000.
   */
  cacheLockWaitMs: number;
  /** How long the in-process copy of an index's freshness watermark is used before it is read again, ms (API_WATERMARK_REFRESH_MS). Default: 200. */
  watermarkRefreshMs: number;
  /** Longest wait for the watermark to reach a caller's minLsn or consistency token before answering with stale: true, ms (API_CONSISTENCY_WAIT_MS). Default: 5000. */
  consistencyWaitMs: number;
  /**
   * API_AUTH: `keys` requires an API key (stored in Redis, so REDIS_URL is then required) on
   * every /v1 route; `off` serves everyone as one trusted caller without tenant filtering.
   * Default: off, so a local demo works without a key (the API logs a warning at start).
   */
  authMode: 'keys' | 'off';
  /**
   * How long a verified key is trusted before Redis is asked again, ms (API_KEY_CACHE_MS); this
   * bounds how long a revoked key keeps working. Default: 5000.
   */
  keyCacheMs: number;
  /** Sustained requests per second each key may make (API_RATE_LIMIT_PER_SEC); 0 = no limit. Default: 50. */
  rateLimitPerSec: number;
  /** Requests a key may make at once above the sustained rate (API_RATE_LIMIT_BURST). Default: 100. */
  rateLimitBurst: number;
  /** Prefix of the Redis keys holding API keys and rate-limit buckets (API_REDIS_PREFIX). Default: search-pipeline: */
  redisPrefix: string;
  /**
   * Bearer token /metrics requires (API_METRICS_TOKEN, at least 16 characters): its series name
   * tenants and key ids. Default: none; /metrics is then open with API_AUTH=off and closed (401)
   * with API_AUTH=keys.
   */
  metricsToken: string | undefined;
  /**
   * One info log line per request (API_ACCESS_LOG=1): request id, method, path without the query
   * string, route, status, ms, bytes, key id. Default: 0 (off; errors are logged either way).
   */
  accessLog: boolean;
  /**
   * On SIGTERM, how long /readyz answers 503 before the listener closes (API_DRAIN_DELAY_MS), so a
   * load balancer's health check takes the instance out before connections are refused; in-flight
   * requests then finish. Set it to the balancer's check interval times its fall count, plus one
   * interval. Default: 5000 (HAProxy with `inter 1s fall 2`: 3 s). 0 closes at once.
   */
  drainDelayMs: number;
  /**
   * Origins whose pages may call the API (API_CORS_ORIGINS): a comma-separated list of exact
   * origins (`https://shop.example.com,http://localhost:3000`), or `*` for any. Credentials
   * (cookies) are never allowed, so `*` exposes nothing a key does not. Default: none (no CORS
   * headers; only same-origin pages, such as the search page, can call the API from a browser).
   */
  corsOrigins: readonly string[] | '*';
  /** Browser keys: signing secret and longest lifetime (see BrowserKeyConfig). */
  browserKeys: BrowserKeyConfig;
  /** Serve the search page at /ui (API_SEARCH_PAGE=1). Default: 1; it holds no data and uses the caller's key. */
  searchPage: boolean;
}

export interface BrowserKeyConfig {
  /**
   * HMAC key of browser keys (API_BROWSER_KEY_SECRET, at least 32 characters, the same on every
   * API instance and for `npm run api-keys -- browser-key`). Default: none, browser keys are off.
   */
  secret: string | undefined;
  /** Longest lifetime of a browser key, s (API_BROWSER_KEY_MAX_TTL_S). Default: 3600. */
  maxTtlS: number;
}

/** What the `npm run api-keys` CLI needs: the Redis the API reads keys from. */
export interface ApiKeysConfig {
  redisUrl: string;
  redisPrefix: string;
}

export function loadApiConfig(env: Env = process.env): Readonly<ApiConfig> {
  const fromUrl = optionalStr(env, 'API_URL') ? new URL(url(env, 'API_URL', ['http:'])) : undefined;
  return Object.freeze({
    ...common(env),
    ...elasticsearch(env),
    host: str(env, 'API_HOST', fromUrl?.hostname ?? '127.0.0.1'),
    port: int(env, 'API_PORT', fromUrl?.port ? Number(fromUrl.port) : 8080, 0, 65535),
    queryTimeoutMs: int(env, 'API_QUERY_TIMEOUT_MS', 5000, 100, 60_000),
    maxBodyBytes: int(env, 'API_MAX_BODY_BYTES', 65_536, 1024, 10_485_760),
    cursorSecret: cursorSecret(env),
    cursorKeepAliveS: int(env, 'API_CURSOR_KEEP_ALIVE_S', 120, 10, 3600),
    redisUrl: optionalStr(env, 'API_REDIS_URL') ? url(env, 'API_REDIS_URL', ['redis:', 'rediss:']) : optionalStr(env, 'REDIS_URL') ? url(env, 'REDIS_URL', ['redis:', 'rediss:']) : undefined,
    cacheTtlS: int(env, 'API_CACHE_TTL_S', 300, 1, 86_400),
    cacheMaxEntries: int(env, 'API_CACHE_MAX_ENTRIES', 5000, 0, 1_000_000),
    cacheMaxBytes: int(env, 'API_CACHE_MAX_BYTES', 64 * 1024 * 1024, 0, 8 * 1024 ** 3),
    cacheLockWaitMs: int(env, 'API_CACHE_LOCK_WAIT_MS', 1000, 0, 60_000),
    watermarkRefreshMs: int(env, 'API_WATERMARK_REFRESH_MS', 200, 10, 60_000),
    consistencyWaitMs: int(env, 'API_CONSISTENCY_WAIT_MS', 5000, 0, 60_000),
    metricsToken: metricsToken(env),
    accessLog: int(env, 'API_ACCESS_LOG', 0, 0, 1) === 1,
    drainDelayMs: int(env, 'API_DRAIN_DELAY_MS', 5000, 0, 120_000),
    corsOrigins: corsOrigins(env),
    browserKeys: browserKeys(env),
    searchPage: int(env, 'API_SEARCH_PAGE', 1, 0, 1) === 1,
    ...apiAuth(env),
  });
}

function apiAuth(env: Env): Pick<ApiConfig, 'authMode' | 'keyCacheMs' | 'rateLimitPerSec' | 'rateLimitBurst' | 'redisPrefix'> {
  return {
    authMode: keyAuthMode(env),
    keyCacheMs: keyCacheMs(env),
    rateLimitPerSec: int(env, 'API_RATE_LIMIT_PER_SEC', 50, 0, 1_000_000),
    rateLimitBurst: int(env, 'API_RATE_LIMIT_BURST', 100, 1, 1_000_000),
    redisPrefix: redisPrefix(env),
  };
}

/** API_AUTH for every service that checks API keys (the API, the ingest intake): keys need Redis. */
export function keyAuthMode(env: Env, service = ''): 'keys' | 'off' {
  const mode = str(env, 'API_AUTH', 'off');
  if (mode !== 'keys' && mode !== 'off') throw new ConfigError(`API_AUTH=${JSON.stringify(mode)} is not one of keys, off.`, { variable: 'API_AUTH' });
  if (mode === 'keys' && !optionalStr(env, 'API_REDIS_URL') && !optionalStr(env, 'REDIS_URL')) {
    throw new ConfigError(`API_AUTH=keys needs REDIS_URL (or API_REDIS_URL)${service ? ` for ${service}` : ''}: API keys are stored in Redis. Set it, or API_AUTH=off for a local demo.`, { variable: 'REDIS_URL' });
  }
  return mode;
}

/** How long a verified key is trusted before Redis is asked again (API_KEY_CACHE_MS). */
export function keyCacheMs(env: Env): number {
  return int(env, 'API_KEY_CACHE_MS', 5000, 0, 300_000);
}

function redisPrefix(env: Env): string {
  const p = str(env, 'API_REDIS_PREFIX', 'search-pipeline:');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(p)) throw new ConfigError(`API_REDIS_PREFIX=${JSON.stringify(p)} is not a valid prefix; use up to 64 letters, digits and _ . : -`, { variable: 'API_REDIS_PREFIX' });
  return p;
}

export function loadApiKeysConfig(env: Env = process.env): Readonly<ApiKeysConfig> {
  const name = optionalStr(env, 'API_REDIS_URL') ? 'API_REDIS_URL' : 'REDIS_URL';
  return Object.freeze({ redisUrl: url(env, name, ['redis:', 'rediss:']), redisPrefix: redisPrefix(env) });
}

/** What `npm run api-keys -- browser-key` needs besides the key store: the API's secret and its indexes. */
export function loadBrowserKeyCliConfig(env: Env = process.env): Readonly<BrowserKeyConfig & { pipelineConfigPath: string }> {
  return Object.freeze({ ...browserKeys(env), pipelineConfigPath: common(env).pipelineConfigPath });
}

function browserKeys(env: Env): BrowserKeyConfig {
  const secret = optionalStr(env, 'API_BROWSER_KEY_SECRET');
  if (secret !== undefined && secret.length < 32) throw new ConfigError('API_BROWSER_KEY_SECRET is too short; use at least 32 random characters (e.g. `openssl rand -hex 32`), the same on every API instance.', { variable: 'API_BROWSER_KEY_SECRET' });
  return { secret, maxTtlS: int(env, 'API_BROWSER_KEY_MAX_TTL_S', 3600, 60, 86_400) };
}

/** API_CORS_ORIGINS: exact origins as a browser sends them in `Origin`, or `*` alone. */
function corsOrigins(env: Env): readonly string[] | '*' {
  const raw = optionalStr(env, 'API_CORS_ORIGINS');
  if (raw === undefined) return [];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.includes('*')) {
    if (list.length > 1) throw new ConfigError(`API_CORS_ORIGINS=${JSON.stringify(raw)} mixes * with origins; give * alone (any origin) or only origins.`, { variable: 'API_CORS_ORIGINS' });
    return '*';
  }
  for (const o of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(o);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== o) {
      throw new ConfigError(`API_CORS_ORIGINS has ${JSON.stringify(o)}; each entry must be an origin exactly as browsers send it: scheme://host[:port] in lower case, without a path or trailing slash (e.g. https://shop.example.com).`, { variable: 'API_CORS_ORIGINS' });
    }
  }
  return Object.freeze(list);
}

function metricsToken(env: Env): string | undefined {
  const s = optionalStr(env, 'API_METRICS_TOKEN');
  if (s !== undefined && s.length < 16) throw new ConfigError('API_METRICS_TOKEN is too short; use at least 16 random characters (e.g. `openssl rand -hex 32`).', { variable: 'API_METRICS_TOKEN' });
  return s;
}

function cursorSecret(env: Env): string | undefined {
  const s = optionalStr(env, 'API_CURSOR_SECRET');
  if (s !== undefined && s.length < 16) throw new ConfigError('API_CURSOR_SECRET is too short; use at least 16 random characters (e.g. `openssl rand -hex 32`).', { variable: 'API_CURSOR_SECRET' });
  return s;
}
