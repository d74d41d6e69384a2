import { eventProblems, topicFor, type ChangeEvent } from '../../core/change-event';

/**
 * The produce side of the change-event contract (issue 3: "validated on produce and on consume").
 * Everything ingest produces is built by our own pgoutput and snapshot decoding, so an event that
 * breaks the schema is a bug of ours, found here instead of by the indexer after it is in Kafka.
 * The compiled ajv validator costs about a microsecond per event (bench/ingest.bench.ts).
 */
export interface ContractViolation {
  /** `schema.table` when the event names one, else `unknown`: a bounded metric label either way. */
  table: string;
  /** The event's topic when its source is readable, else '' (it never had one). */
  topic: string;
  reason: string;
}

export function contractViolation(e: ChangeEvent, topicPrefix: string): ContractViolation | undefined {
  const problems = eventProblems(e);
  if (problems.length === 0) return undefined;
  const source = sourceOf(e);
  return {
    table: source ? `${source.schema}.${source.table}` : 'unknown',
    topic: source ? topicFor(topicPrefix, source) : '',
    // ajv repeats an if/then failure as 'must match "then" schema' next to the useful message.
    reason: `the event breaks the change-event contract (a decoding bug in ingest): ${problems.filter((p) => !/must match "(then|else)" schema$/.test(p)).join('; ')}`,
  };
}

/** The event's source when it has a usable one; an invalid event may have none. */
export function sourceOf(e: unknown): { schema: string; table: string } | undefined {
  const s = (e as { source?: unknown } | null)?.source as { schema?: unknown; table?: unknown } | undefined;
  // The event's own object, not a copy: counted for every event on the hot path.
  return s && typeof s.schema === 'string' && typeof s.table === 'string' ? (s as { schema: string; table: string }) : undefined;
}
