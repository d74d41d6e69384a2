import { Client, type ClientOptions } from '@elastic/elasticsearch';

/** Where and how to reach Elasticsearch (read from the environment by config/elasticsearch.ts). */
export interface ElasticsearchConnection {
  /** Node URLs; the client spreads requests over them and skips a dead one. */
  nodes: readonly string[];
  auth?: { apiKey: string } | { username: string; password: string };
  /** PEM CA bundle the https nodes' certificates are checked against. */
  ca?: string;
}

/**
 * The one place an Elasticsearch client is built (indexer, API, scripts): every node URL, the API
 * key or basic credentials, the CA bundle. With several nodes the client round-robins, marks a
 * node that fails dead for a while and retries the request on another.
 */
export function createElasticsearchClient(conn: ElasticsearchConnection, extra: Pick<ClientOptions, 'requestTimeout' | 'maxRetries'> = {}): Client {
  return new Client({
    nodes: [...conn.nodes],
    ...(conn.auth ? { auth: conn.auth } : {}),
    ...(conn.ca ? { tls: { ca: conn.ca } } : {}),
    ...extra,
  });
}

/** Shards and replicas of an index. `replicas` undefined: auto_expand_replicas 0-1 (one copy on a cluster, none on a single node). */
export interface IndexReplication { shards: number; replicas?: number }

export const DEFAULT_INDEX_REPLICATION: IndexReplication = Object.freeze({ shards: 1 });

/** The index settings that carry it. */
export function replicationSettings(r: IndexReplication): Record<string, unknown> {
  return { number_of_shards: r.shards, ...(r.replicas === undefined ? { auto_expand_replicas: '0-1' } : { number_of_replicas: r.replicas, auto_expand_replicas: 'false' }) };
}
