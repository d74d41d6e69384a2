import type { Client } from '@elastic/elasticsearch';
import type { IndexerConfig } from '../../config';
import { findIndex, sourceTables, type IndexSpec, type PipelineConfig } from '../../config/pipeline';
import { topicFor } from '../../core/change-event';
import { PipelineError } from '../../core/errors';
import { withCluster, type KafkaCluster } from '../../core/kafka-cluster';
import type { KafkaClient } from '../../core/kafka-client';
import type { Logger } from '../../core/logger';
import { sleep } from '../../core/retry';
import { createIndexer } from '../indexer-service';
import { mappingHash } from '../mappings';
import { createIndexerMetrics } from '../metrics';
import { aliasTarget, createNextGeneration, readMeta, swapAlias, writeMeta, type Offsets } from './generations';
import { assertReplayable, committedOffsets, distance, endOffsets, sameOffsets } from './topic-offsets';

export interface ReindexDeps {
  /** The live indexer's config: its consumer group is the one whose progress the swap waits for. */
  config: Readonly<IndexerConfig>;
  pipeline: PipelineConfig;
  kafka: KafkaClient;
  es: Client;
  log: Logger;
  /** Messages replayed so far and to replay in all (the total grows while changes keep coming). */
  onProgress?: (phase: 'replay' | 'verify' | 'tail', done: number, total: number) => void;
  /** How long the two generations may take to agree on a quiet cut before giving up. Default 300000. */
  verifyTimeoutMs?: number;
  /** Aborts the replay and the wait for a quiet cut (the indexer shuts down, or lost its lease); the alias is not swapped. */
  signal?: AbortSignal;
}

export interface ReindexResult { index: string; from: string; to: string; documents: number; skipped?: boolean }

/**
 * Zero-downtime reindex: builds `<name>_v(N+1)` with the mapping of the current pipeline config by
 * replaying the index's topic from offset 0 under its own consumer group (Elasticsearch's
 * `_reindex` is missing from the local distribution, and a copy of the old index could not add a
 * newly configured field: its _source holds only the old config's fields). The alias keeps
 * pointing to the old index, which the live indexer keeps writing, until the swap.
 * `ifChanged`: only when the mapping hash of the live index differs from the config's.
 */
export async function reindex(deps: ReindexDeps, name: string, opts: { ifChanged?: boolean } = {}): Promise<ReindexResult> {
  const spec = specOf(deps.pipeline, name);
  const from = await aliasTarget(deps.es, name);
  if (opts.ifChanged && (await readMeta(deps.es, from)).mapping_hash === mappingHash(spec)) return { index: name, from, to: from, documents: 0, skipped: true };
  return withCluster(deps.kafka.cluster(), async (cluster) => {
    await assertReplayable(cluster, topicsOf(deps, spec));
    const to = await createNextGeneration(deps.es, spec);
    deps.log.info('reindex: replaying the topic into a new generation', { index: name, from, to });
    return fillAndSwap(deps, cluster, spec, from, to);
  });
}

/**
 * Points the alias back to the generation it pointed to before the last swap, after replaying
 * into it what changed since (from the cut recorded at the swap). Rolling back twice rolls forward.
 */
export async function rollback(deps: ReindexDeps, name: string): Promise<ReindexResult> {
  const spec = specOf(deps.pipeline, name);
  const from = await aliasTarget(deps.es, name);
  const meta = await readMeta(deps.es, from);
  if (!meta.previous || !meta.cut) throw new PipelineError(`nothing to roll back to: ${from} was not put behind ${name} by a reindex.`, { code: 'ROLLBACK_NONE', retriable: false, context: { index: name } });
  if (!(await deps.es.indices.exists({ index: meta.previous }))) throw new PipelineError(`cannot roll back ${name} to ${meta.previous}: that index was deleted.`, { code: 'ROLLBACK_NONE', retriable: false, context: { index: name } });
  const to = meta.previous;
  return withCluster(deps.kafka.cluster(), async (cluster) => {
    await assertReplayable(cluster, topicsOf(deps, spec), meta.cut);
    deps.log.info('rollback: catching up the previous generation', { index: name, from, to });
    return fillAndSwap(deps, cluster, spec, from, to, meta.cut);
  });
}

/**
 * Replays the topic (from `startAt`, else offset 0) into `to`, waits for a quiet cut where this
 * replay and the live group both reached the end of the topic and the two indexes hold as many
 * documents, swaps the alias, then follows the topic to the end offsets after the swap: changes
 * the live indexer wrote to `from` just before the swap reach `to` too.
 */
async function fillAndSwap(deps: ReindexDeps, cluster: KafkaCluster, spec: IndexSpec, from: string, to: string, startAt?: Offsets): Promise<ReindexResult> {
  const { config, es, log } = deps;
  const topics = topicsOf(deps, spec);
  const groupId = `${config.groupId}.reindex.${to}.${Date.now().toString(36)}`;
  for (const topic of startAt ? topics : []) {
    await cluster.setCommitted(groupId, topic, Object.entries(startAt![topic] ?? {}).map(([p, offset]) => ({ partition: Number(p), offset })));
  }
  const start = await committedOffsets(cluster, groupId, topics);
  let fatal: unknown;
  const follower = createIndexer({
    // The replay refreshes rarely (the swap refreshes anyway) and serves no metrics endpoint.
    config: { ...config, groupId, metricsPort: 0, watermarkIntervalMs: Math.max(config.watermarkIntervalMs, 5_000) },
    pipeline: { file: deps.pipeline.file, indexes: [{ ...spec, name: to }] },
    kafka: deps.kafka, es, metrics: createIndexerMetrics(), log: log.child('reindex'),
    onFatal: (err) => void (fatal ??= err),
    manageTemplates: false,
  });
  const followTo = async (phase: 'replay' | 'tail', from: Offsets, end?: Offsets): Promise<void> => {
    for (;;) {
      if (fatal) throw fatal;
      // The tail is never cut short: it carries what the live indexer wrote to `from` just before the swap.
      if (phase === 'replay') throwIfAborted(deps, to);
      const target = end ?? (await endOffsets(cluster, topics));
      const done = await committedOffsets(cluster, groupId, topics);
      deps.onProgress?.(phase, distance(from, done), distance(from, target));
      if (distance(done, target) === 0) return;
      await sleep(500);
    }
  };
  await follower.start();
  let documents: number;
  try {
    await followTo('replay', start);
    const cut = await quietCut(deps, cluster, topics, groupId, from, to);
    documents = cut.documents;
    await writeMeta(es, to, { previous: from, cut: cut.offsets });
    await swapAlias(es, spec.name, from, to);
    log.info('reindex: alias swapped', { index: spec.name, from, to, documents });
    await followTo('tail', await committedOffsets(cluster, groupId, topics), await endOffsets(cluster, topics));
  } finally {
    await follower.close();
    await cluster.deleteGroups([groupId]).catch(() => undefined);
  }
  return { index: spec.name, from, to, documents };
}

/**
 * Waits for a moment when the topic's end did not move while both groups stood at it and the
 * refreshed indexes were counted: then both hold the same history, and their counts must match.
 */
async function quietCut(deps: ReindexDeps, cluster: KafkaCluster, topics: readonly string[], groupId: string, from: string, to: string): Promise<{ offsets: Offsets; documents: number }> {
  const { es, config } = deps;
  const deadline = Date.now() + (deps.verifyTimeoutMs ?? 300_000);
  let why = '';
  for (;;) {
    throwIfAborted(deps, to);
    const end = await endOffsets(cluster, topics);
    const behindMine = distance(await committedOffsets(cluster, groupId, topics), end);
    const behindLive = distance(await committedOffsets(cluster, config.groupId, topics), end);
    deps.onProgress?.('verify', 0, behindMine + behindLive);
    if (behindMine === 0 && behindLive === 0) {
      await es.indices.refresh({ index: [from, to] });
      const [a, b] = [(await es.count({ index: from })).count, (await es.count({ index: to })).count];
      if (a === b && sameOffsets(end, await endOffsets(cluster, topics))) return { offsets: end, documents: b };
      why = `${from} holds ${a} documents, ${to} ${b}`;
    } else {
      why = `the replay is ${behindMine} and the live group ${config.groupId} ${behindLive} messages behind the end of the topic`;
    }
    if (Date.now() > deadline) {
      throw new PipelineError(`reindex not verified: ${why}. The alias ${from} was not swapped; ${to} is kept. Check that the live indexer (group ${config.groupId}) is running and caught up, then run the reindex again.`, {
        code: 'REINDEX_UNVERIFIED', retriable: false, context: { from, to },
      });
    }
    await sleep(250);
  }
}

function throwIfAborted(deps: ReindexDeps, to: string): void {
  if (deps.signal?.aborted) throw new PipelineError(`reindex interrupted before the alias swap; ${to} is incomplete and not behind the alias.`, { code: 'REINDEX_ABORTED', retriable: true, context: { to } });
}

function specOf(pipeline: PipelineConfig, name: string): IndexSpec {
  const spec = findIndex(pipeline, name);
  if (!spec) throw new PipelineError(`index ${JSON.stringify(name)} is not in the pipeline config ${pipeline.file}; configured: ${pipeline.indexes.map((i) => i.name).join(', ')}.`, { code: 'INDEX_UNKNOWN', retriable: false });
  return spec;
}

/** The topics that feed the index: its table's, and for joined documents every related table's too. */
function topicsOf(deps: ReindexDeps, spec: IndexSpec): string[] {
  return sourceTables(spec).map((t) => topicFor(deps.config.topicPrefix, t));
}
