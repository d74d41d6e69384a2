import { Client as EsClient } from '@elastic/elasticsearch';
import Redis from 'ioredis';
import type { Client as PgClient } from 'pg';
import { errorMessage } from '../../core/errors';
import type { KafkaCluster } from '../../core/kafka-cluster';
import type { InfraPart } from './model';

export async function probePostgres(db: PgClient, address: string): Promise<InfraPart> {
  const { rows } = await db.query<{ v: string; wal_level: string }>("SELECT current_setting('server_version') AS v, current_setting('wal_level') AS wal_level");
  const ok = rows[0]?.wal_level === 'logical';
  return { health: ok ? 'ok' : 'fail', address, version: rows[0]?.v, detail: `wal_level=${rows[0]?.wal_level}`, ...(ok ? {} : { error: 'wal_level is not logical: ingest cannot stream' }) };
}

export async function probeKafka(cluster: KafkaCluster, address: string): Promise<InfraPart> {
  const c = await cluster.describeCluster();
  return { health: 'ok', address, detail: `${c.brokers.size} broker(s), controller ${c.controller ?? 'none'}` };
}

export async function probeElasticsearch(es: EsClient, address: string): Promise<InfraPart> {
  // The node's version from _nodes (GET / may be refused by a proxy in front of the cluster).
  const [nodes, health] = await Promise.all([es.nodes.info({ node_id: '_local', metric: '_none' }).catch(() => undefined), es.cluster.health()]);
  const version = Object.values(nodes?.nodes ?? {})[0]?.version;
  return { health: health.status === 'red' ? 'fail' : health.status === 'yellow' ? 'warn' : 'ok', address, ...(version ? { version } : {}), detail: `cluster ${health.status}, ${health.number_of_nodes} node(s)` };
}

export async function probeRedis(url: string, timeoutMs: number): Promise<InfraPart> {
  const address = redact(url);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: unknown;
  redis.on('error', (err) => (cause = err)); // the connection's own error says more than the command's
  try {
    await redis.connect();
    const info = await redis.info('server');
    return { health: 'ok', address, version: /redis_version:(\S+)/.exec(info)?.[1] };
  } catch (err) {
    return { health: 'fail', address, error: `Redis at ${address} does not answer: ${errorMessage(cause ?? err)}` };
  } finally {
    redis.disconnect();
  }
}

/** A URL without its password, for output. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
