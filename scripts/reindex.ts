/**
 * npm run reindex -- <index> [--if-changed] [--rollback]
 *
 * Builds the next generation of a search index from its Kafka topic with the mapping of the
 * current pipeline config and swaps the alias to it without interrupting searches; the previous
 * generation is kept. --if-changed: only when the config's mapping differs from the live index's.
 * --rollback: point the alias back to the previous generation (caught up first).
 * Reads the same environment as the indexer (KAFKA_BROKERS, ELASTICSEARCH_URL, PIPELINE_CONFIG,
 * TOPIC_PREFIX, INDEXER_GROUP_ID): the swap waits until that live group is caught up too.
 */
import { parseArgs } from 'node:util';
import { createElasticsearchClient } from '../core/elasticsearch';
import { loadIndexerConfig } from '../config';
import { loadPipelineConfig } from '../config/pipeline';
import { errorMessage } from '../core/errors';
import { createKafka } from '../core/kafka';
import { createLogger } from '../core/logger';
import { defaultLeaseOwner, reindexLeaseName } from '../indexer/reindex/auto-reindex';
import { reindex, rollback } from '../indexer/reindex/reindex';
import { acquireLease } from '../indexer/reindex/reindex-lease';
import { progressBar } from './progress';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rollback: { type: 'boolean', default: false }, 'if-changed': { type: 'boolean', default: false } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: npm run reindex -- <index> [--if-changed] [--rollback]\n');
    return 2;
  }
  const name = positionals[0]!;
  const config = loadIndexerConfig();
  const log = createLogger('reindex', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const pipeline = loadPipelineConfig(config.pipelineConfigPath);
  const es = createElasticsearchClient(config.elasticsearch);
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  let last: { phase: string; done: number } | undefined;
  const onProgress = (phase: string, done: number, total: number): void => {
    if (last && last.phase !== phase) bars.get(last.phase)?.done(last.done);
    let bar = bars.get(phase);
    if (!bar) bars.set(phase, (bar = progressBar(LABELS[phase] ?? phase, total)));
    bar.update(phase === 'verify' ? 0 : done, total);
    last = { phase, done };
  };
  try {
    // The same lease as the indexers' automatic reindex: two replays would race for the alias.
    const got = await acquireLease(es, reindexLeaseName(name), defaultLeaseOwner('reindex-cli'), { log, indexReplication: config.elasticsearch.internalIndex });
    if ('heldBy' in got) {
      process.stderr.write(`reindex refused: ${got.heldBy.owner} is reindexing ${name} (lease until ${new Date(got.heldBy.expiresAt).toISOString()}, renewed while it runs); wait for it to finish and run this again.\n`);
      return 3;
    }
    try {
      const deps = { config, pipeline, kafka: createKafka(config.kafkaBrokers, 'reindex', log, config.kafkaSecurity), es, log, onProgress, signal: got.lease.signal };
      const r = values.rollback ? await rollback(deps, name) : await reindex(deps, name, { ifChanged: values['if-changed'] });
      if (last) bars.get(last.phase)?.done(last.done);
      if (r.skipped) process.stdout.write(`${name}: mapping unchanged (${r.from}); nothing to do\n`);
      else process.stdout.write(`${name}: alias moved from ${r.from} to ${r.to} (${r.documents.toLocaleString('en')} documents); ${r.from} is kept${values.rollback ? '' : `; undo with npm run reindex -- ${name} --rollback`}\n`);
    } finally {
      await got.lease.release();
    }
    return 0;
  } finally {
    await es.close();
  }
}

const LABELS: Record<string, string> = { replay: 'replaying the topic', verify: 'waiting for a quiet cut (messages behind)', tail: 'after the swap' };

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`reindex failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
