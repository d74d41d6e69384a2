import fs from 'node:fs';
import type { ElasticsearchConnection, IndexReplication } from '../core/elasticsearch';
import { ConfigError } from '../core/errors';
import { int, optionalStr, str, type Env } from './env';

/**
 * How every service reaches Elasticsearch (docs/scaling.md): one or several node URLs, an API
 * key or basic credentials, a CA bundle for https. Built into a client in one place,
 * core/elasticsearch.ts.
 */
export interface ElasticsearchConfig extends ElasticsearchConnection {
  /**
   * nodes: ELASTICSEARCH_URL, comma-separated node URLs. auth: ELASTICSEARCH_API_KEY (the base64
   * `encoded` value Elasticsearch returns) or ELASTICSEARCH_USERNAME + ELASTICSEARCH_PASSWORD; none:
   * credentials in the URL or an open cluster. ca: the content of ELASTICSEARCH_CA_FILE.
   */
  nodes: string[];
  /**
   * Shards and replicas of the pipeline's own small indexes, indexer state (watermarks) and reindex
   * leases (ELASTICSEARCH_STATE_INDEX_SHARDS, default 1; ELASTICSEARCH_STATE_INDEX_REPLICAS, default
   * unset: auto_expand_replicas 0-1). Applied when they are created.
   */
  internalIndex: IndexReplication;
}

export function loadElasticsearchConfig(env: Env): Readonly<ElasticsearchConfig> {
  const nodes = nodeUrls(env);
  const apiKey = optionalStr(env, 'ELASTICSEARCH_API_KEY');
  const username = optionalStr(env, 'ELASTICSEARCH_USERNAME');
  const password = optionalStr(env, 'ELASTICSEARCH_PASSWORD');
  if (apiKey && (username || password)) throw new ConfigError('ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD are both set; use one way to authenticate (an API key is preferred: it can be scoped and revoked).', { variable: 'ELASTICSEARCH_API_KEY' });
  if (Boolean(username) !== Boolean(password)) throw new ConfigError(`${username ? 'ELASTICSEARCH_PASSWORD' : 'ELASTICSEARCH_USERNAME'} is not set; basic auth needs both ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD.`, { variable: username ? 'ELASTICSEARCH_PASSWORD' : 'ELASTICSEARCH_USERNAME' });
  if ((apiKey || username) && nodes.some((n) => new URL(n).username)) throw new ConfigError('ELASTICSEARCH_URL carries credentials and ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME is set too; keep one (remove user:password@ from the URL).', { variable: 'ELASTICSEARCH_URL' });
  const caFile = optionalStr(env, 'ELASTICSEARCH_CA_FILE');
  let ca: string | undefined;
  if (caFile) {
    if (!nodes.some((n) => n.startsWith('https:'))) throw new ConfigError(`ELASTICSEARCH_CA_FILE is set but ELASTICSEARCH_URL has no https node; a CA bundle checks https certificates only. Use https:// URLs or unset ELASTICSEARCH_CA_FILE.`, { variable: 'ELASTICSEARCH_CA_FILE' });
    try {
      ca = fs.readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`ELASTICSEARCH_CA_FILE=${JSON.stringify(caFile)} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected the path of a PEM file with the CA certificate(s) of the cluster (e.g. config/certs/http_ca.crt of Elasticsearch).`, { variable: 'ELASTICSEARCH_CA_FILE' });
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`ELASTICSEARCH_CA_FILE=${JSON.stringify(caFile)} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line).`, { variable: 'ELASTICSEARCH_CA_FILE' });
  }
  const auth = apiKey ? { apiKey } : username && password ? { username, password } : undefined;
  const replicas = optionalStr(env, 'ELASTICSEARCH_STATE_INDEX_REPLICAS') ? int(env, 'ELASTICSEARCH_STATE_INDEX_REPLICAS', 1, 0, 32) : undefined;
  return Object.freeze({
    nodes,
    ...(auth ? { auth } : {}),
    ...(ca ? { ca } : {}),
    internalIndex: Object.freeze({ shards: int(env, 'ELASTICSEARCH_STATE_INDEX_SHARDS', 1, 1, 64), replicas }),
  });
}

function nodeUrls(env: Env): string[] {
  const raw = str(env, 'ELASTICSEARCH_URL');
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const u of list) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(`ELASTICSEARCH_URL has ${JSON.stringify(u)}, which is not a URL; expected one or more comma-separated http(s) URLs (e.g. https://es1:9200,https://es2:9200).`, { variable: 'ELASTICSEARCH_URL' });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`ELASTICSEARCH_URL has ${JSON.stringify(u)}, which uses ${parsed.protocol}; expected http: or https: (e.g. http://127.0.0.1:9200).`, { variable: 'ELASTICSEARCH_URL' });
  }
  return list;
}
