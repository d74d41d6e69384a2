import { Registry } from 'prom-client';
import { parsePipelineConfig, type PipelineConfig } from '../../config/pipeline';
import type { TokenPosition } from '../../core/consistency-token';
import { PipelineError } from '../../core/errors';
import { silentLogger } from '../../core/logger';
import type { AcceptedEvent } from './event-check';
import { createIntakeApp, type IntakeAppDeps } from './intake-app';
import { createIntakeMetrics } from './intake-metrics';
import type { IntakePublisher } from './intake-publisher';

/** Test doubles for the intake's unit tests: a pipeline, and a publisher that records instead of producing. */
export function intakePipeline(tables: string[] = ['public.orders', 'public.books']): PipelineConfig {
  const indexes = Object.fromEntries(tables.map((t, i) => [`idx${i}`, { table: t, fields: { title: { type: 'text', searchable: true } } }]));
  return parsePipelineConfig(JSON.stringify({ version: 1, indexes }), 'test-pipeline.json');
}

/** Records every batch; partition = number of key characters mod 3, so tests can predict positions. */
export class RecordingPublisher implements IntakePublisher {
  readonly batches: AcceptedEvent[][] = [];
  /** Batches to acknowledge before failing as Kafka would when a broker is down; undefined = never fail. */
  failAfterBatches: number | undefined;

  get events(): AcceptedEvent[] {
    return this.batches.flat();
  }

  async publish(events: readonly AcceptedEvent[]): Promise<TokenPosition[]> {
    if (this.failAfterBatches !== undefined && this.batches.length >= this.failAfterBatches) {
      throw new PipelineError('Kafka did not acknowledge the events', { code: 'KAFKA_PRODUCE_FAILED', retriable: true });
    }
    this.batches.push([...events]);
    return events.flatMap((e) => (e.everyPartition ? [0, 1, 2] : [e.key.length % 3]).map((partition) => ({ topic: e.topic, partition, lsn: BigInt(e.commitLsn) })));
  }
}

export function intakeTestApp(overrides: Partial<IntakeAppDeps> = {}) {
  const registry = new Registry();
  const publisher = new RecordingPublisher();
  const deps: IntakeAppDeps = {
    pipeline: intakePipeline(),
    topicPrefix: 'cdc',
    httpTables: ['public.orders'],
    publisher,
    auth: { mode: 'off' },
    metrics: createIntakeMetrics(registry),
    log: silentLogger,
    maxBodyBytes: 1_000_000,
    maxEventBytes: 50_000,
    batchMaxEvents: 100,
    ...overrides,
  };
  return { app: createIntakeApp(deps), publisher, registry };
}

export function orderEvent(id: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, op: 'u', source: { schema: 'public', table: 'orders' }, key: { id: String(id) }, after: { id: String(id), title: `order ${id}` }, lsn: String(1000 + id), commitLsn: String(1000 + id), txId: id, ts: '2026-11-23T09:00:00.000Z', ...over };
}
