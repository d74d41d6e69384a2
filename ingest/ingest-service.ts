import type { Kafka } from 'kafkajs';
import type { Client } from 'pg';
import type { IngestConfig } from '../config';
import type { PipelineConfig } from '../config/pipeline';
import { topicFor } from '../core/change-event';
import { ensureTopics } from '../core/kafka';
import type { Logger } from '../core/logger';
import { CommitBatcher } from './commit-batcher';
import type { IngestMetrics } from './metrics';
import { KafkaEventPublisher } from './sink/kafka-publisher';
import { PgChangeSource, type SourceMessage } from './source/pg-change-source';
import { checkTables, ensurePublication, ensureSlot } from './source/pg-setup';
import { toChangeEvents, type TxContext } from './transform/to-change-events';

export interface IngestDeps {
  config: Readonly<IngestConfig>;
  pipeline: PipelineConfig;
  kafka: Kafka;
  db: Client;
  metrics: IngestMetrics;
  log: Logger;
  onFatal: (err: unknown) => void;
}

/** Postgres slot → change events → Kafka, confirming the slot only behind Kafka's acks. */
export function createIngest(deps: IngestDeps) {
  const { config, pipeline, kafka, db, metrics, log } = deps;
  const tables = [...new Map(pipeline.indexes.map((i) => [`${i.source.schema}.${i.source.table}`, { schema: i.source.schema, table: i.source.table }])).values()];
  const publisher = new KafkaEventPublisher(kafka, config.topicPrefix);
  const source = new PgChangeSource(config.databaseUrl, config.slotName, config.publicationName, log.child('source'), deps.onFatal);
  const batcher = new CommitBatcher(
    publisher,
    async (lsn) => {
      await source.confirm(lsn);
      metrics.confirmedLsn.set(Number(lsn));
    },
    {
      maxEvents: config.batchMaxEvents,
      flushIntervalMs: config.flushIntervalMs,
      onSent: (events, ms) => {
        metrics.produceSeconds.observe(ms / 1000);
        for (const e of events) metrics.events.inc({ table: `${e.source.schema}.${e.source.table}`, op: e.op });
      },
      onFatal: deps.onFatal,
    },
    log.child('batcher'),
  );

  let tx: TxContext | undefined;
  async function onMessage(m: SourceMessage): Promise<void> {
    switch (m.kind) {
      case 'begin':
        tx = { xid: m.xid, commitLsn: m.commitLsn.toString(), ts: m.ts.toISOString() };
        return;
      case 'change':
        if (!tx) throw new Error('change outside a transaction');
        return batcher.add(toChangeEvents(m.change, m.lsn.toString(), tx));
      case 'commit':
        tx = undefined;
        return batcher.commit(m.commitEndLsn);
    }
  }

  return {
    async start(): Promise<void> {
      await checkTables(db, tables);
      await ensurePublication(db, config.publicationName, tables);
      const slot = await ensureSlot(db, config.slotName);
      if (slot.created) log.info('created replication slot', { slot: config.slotName, lsn: slot.confirmedFlushLsn });
      await ensureTopics(kafka, tables.map((t) => topicFor(config.topicPrefix, t)), config.topicPartitions);
      await publisher.connect();
      await source.start(onMessage);
    },
    /** Sends what is complete, confirms it, and stops. Unfinished transactions are re-read after restart. */
    async close(): Promise<void> {
      await source.close();
      await batcher.close().catch((err: unknown) => log.warn('final flush failed', { err }));
      await publisher.close();
    },
  };
}
