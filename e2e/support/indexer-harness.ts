import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '../../core/elasticsearch';
import { Partitioners, type Producer } from 'kafkajs';
import { loadIndexerConfig } from '../../config';
import { parsePipelineConfig } from '../../config/pipeline';
import { canonicalKey, type ChangeEvent } from '../../core/change-event';
import { createKafka, ensureTopics } from '../../core/kafka';
import { silentLogger } from '../../core/logger';
import { STATE_INDEX } from '../../core/watermark-store';
import { createIndexer } from '../../indexer/indexer-service';
import { createIndexerMetrics } from '../../indexer/metrics';
import { env, es, kafka, uniqueName } from './services';
import { kafkajsClient } from '../../core/kafkajs-client';

/**
 * A table topic, an index and an in-process indexer against the real Kafka and Elasticsearch,
 * for the indexer's integration tests. The indexer may be pointed at a fault proxy (esUrl).
 */
export interface Harness {
  prefix: string;
  index: string;
  topic: string;
  table: string;
  partitions: number;
  client: Client;
  producer: Producer;
  send: (...events: ChangeEvent[]) => Promise<void>;
  /** A key-less event (heartbeat, truncate) on every partition, as ingest produces it. */
  broadcast: (event: ChangeEvent) => Promise<void>;
  close: () => Promise<void>;
}

export const TABLE = 'items';
export const PIPELINE_FIELDS = { title: { type: 'text', searchable: true }, year: { type: 'integer' }, n: { type: 'long' } };

export async function createHarness(partitions = 3): Promise<Harness> {
  const prefix = uniqueName('t');
  const index = uniqueName('docs');
  const topic = `${prefix}.public.${TABLE}`;
  const k = kafka();
  await ensureTopics(kafkajsClient(k), [topic], partitions);
  const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const client = es();
  return {
    prefix, index, topic, table: TABLE, partitions, client, producer,
    send: async (...events) => {
      await producer.send({ topic, acks: -1, messages: events.map((e) => ({ key: canonicalKey(e.key), value: JSON.stringify(e) })) });
    },
    broadcast: async (event) => {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, key: null, value: JSON.stringify(event) })) });
    },
    close: async () => {
      await producer.disconnect();
      await dropSearchIndex(client, index);
      await client.close();
    },
  };
}

/**
 * Deletes the watermark documents (core/watermark-store.ts) of an index a test or bench created.
 * By search and id: this Elasticsearch has no _delete_by_query.
 */
export async function dropStateDocs(client: Client, index: string): Promise<void> {
  await client.indices.refresh({ index: STATE_INDEX }, { ignore: [404] });
  for (;;) {
    const res = await client.search({ index: STATE_INDEX, size: 1000, _source: false, query: { term: { index } } }, { ignore: [404] });
    const ids = (res.hits?.hits ?? []).map((h) => h._id!);
    if (!ids.length) return;
    await client.bulk({ refresh: true, operations: ids.map((id) => ({ delete: { _index: STATE_INDEX, _id: id } })) });
  }
}

/** Drops a pipeline index a test created: every generation behind its alias and its template. */
export async function dropSearchIndex(client: Client, index: string): Promise<void> {
  // Every generation (a reindex adds _v2, …); wildcard deletes are refused by default.
  const generations = Object.keys((await client.indices.get({ index: `${index}_v*` }, { ignore: [404] })) ?? {}).filter((n) => n.startsWith(`${index}_v`));
  for (const name of generations) await client.indices.delete({ index: name }, { ignore: [404] });
  await client.indices.deleteIndexTemplate({ name: `search-pipeline-${index}` }, { ignore: [404] });
}

export function indexerFor(h: Harness, opts: { groupId?: string; esUrl?: string; env?: Record<string, string>; fields?: Record<string, unknown> } = {}) {
  const config = loadIndexerConfig({
    ...process.env, TOPIC_PREFIX: h.prefix, INDEXER_GROUP_ID: opts.groupId ?? uniqueName('g'), INDEXER_MAX_RETRIES: '2',
    INDEXER_WATERMARK_INTERVAL_MS: '100', ELASTICSEARCH_URL: opts.esUrl ?? env('ELASTICSEARCH_URL'), ...opts.env,
  });
  const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [h.index]: { table: h.table, fields: opts.fields ?? PIPELINE_FIELDS } } }));
  const client = createElasticsearchClient(config.elasticsearch);
  const metrics = createIndexerMetrics();
  const fatal: unknown[] = [];
  const indexer = createIndexer({ config, pipeline, kafka: createKafka(config.kafkaBrokers, 'indexer-test', silentLogger), es: client, metrics, log: silentLogger, onFatal: (e) => void fatal.push(e) });
  return {
    indexer, metrics, config, pipeline, fatal,
    close: async () => {
      await indexer.close();
      await client.close();
    },
  };
}

/**
 * A harness and a started indexer, the index refreshed by nothing but the indexer
 * (refresh_interval -1): whatever a test finds searchable, the indexer's own refresh made so.
 */
export async function startRefreshOnlyIndexer(partitions: number): Promise<{ h: Harness; run: ReturnType<typeof indexerFor>; close: () => Promise<void> }> {
  const h = await createHarness(partitions);
  const run = indexerFor(h);
  await run.indexer.start();
  await h.client.indices.putSettings({ index: h.index, settings: { refresh_interval: '-1' } });
  return {
    h, run,
    close: async () => {
      await run.close();
      await h.close();
    },
  };
}

export const change = (id: number, commitLsn: string | number, after?: Record<string, unknown>): ChangeEvent => ({
  v: 1, op: after ? 'u' : 'd', source: { schema: 'public', table: TABLE }, key: { id }, ...(after ? { after } : {}), lsn: String(commitLsn), commitLsn: String(commitLsn), txId: 1, ts: new Date().toISOString(),
});
export const keyless = (op: 'h' | 't', commitLsn: string | number): ChangeEvent => ({
  v: 1, op, source: { schema: 'public', table: TABLE }, key: {}, lsn: String(commitLsn), commitLsn: String(commitLsn), txId: 1, ts: new Date().toISOString(),
});

/** Every document of an index with its exact version (raw text: versions may pass 2^53). */
export async function allDocs(client: Client, index: string): Promise<Map<string, { version: string; source: string }>> {
  await client.indices.refresh({ index });
  const out = new Map<string, { version: string; source: string }>();
  let after: unknown[] | undefined;
  const pit = await client.openPointInTime({ index, keep_alive: '1m' });
  try {
    for (;;) {
      const res = (await client.transport.request(
        { method: 'POST', path: '/_search', body: JSON.stringify({ pit: { id: pit.id, keep_alive: '1m' }, size: 1000, version: true, sort: [{ _shard_doc: 'asc' }], ...(after ? { search_after: after } : {}) }) },
        { asStream: true, headers: { 'content-type': 'application/json' } },
      )) as unknown as NodeJS.ReadableStream;
      let text = '';
      for await (const chunk of res) text += chunk.toString();
      // Versions above 2^53 would be rounded by JSON.parse: quote them first.
      if (!text.includes(`"hits"`)) throw new Error(`point-in-time read failed: ${text.slice(0, 500)}`);
      const parsed = JSON.parse(text.replace(/"_version":(\d+)/g, '"_version":"$1"')) as { hits: { hits: Array<{ _id: string; _version: string; _source: unknown; sort: unknown[] }> } };
      const hits = parsed.hits.hits;
      if (!hits.length) break;
      for (const h of hits) out.set(h._id, { version: h._version, source: JSON.stringify(h._source) });
      after = hits[hits.length - 1]!.sort;
    }
  } finally {
    await client.closePointInTime({ id: pit.id }).catch(() => undefined);
  }
  return out;
}

/** What the index should hold: per id, the version (commit LSN) of its last change and the document, absent when deleted. */
export type ExpectedDocs = ReadonlyMap<string, { lsn: number | string; doc?: Record<string, unknown> }>;

/** The verdict of docs/reliability.md: documents missing, extra (deleted or never written), or stale (wrong version or content). */
export function compareDocs(expected: ExpectedDocs, actual: ReadonlyMap<string, { version: string; source: string }>): { missing: string[]; extra: string[]; stale: string[] } {
  const missing: string[] = [];
  const stale: string[] = [];
  const extra: string[] = [];
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (!want.doc) {
      if (got) extra.push(id);
    } else if (!got) missing.push(id);
    else if (got.version !== String(want.lsn) || got.source !== JSON.stringify(want.doc)) stale.push(id);
  }
  for (const id of actual.keys()) if (!expected.has(id)) extra.push(id);
  return { missing, extra, stale };
}
