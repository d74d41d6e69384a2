import type { ChangeEvent } from '../core/change-event';
import { TRACEPARENT_HEADER, type TraceSpan, type Tracing } from '../core/tracing';

/**
 * Which trace each change event belongs to, from its decoding to its Kafka record's
 * `traceparent` header (docs/operations.md, "Traces"). Kept beside the events, not in them: the
 * change-event contract stays as it is, and an event no one sampled has no entry.
 */
export class ChangeTraces {
  private readonly byEvent = new WeakMap<ChangeEvent, Readonly<Record<string, string>>>();
  constructor(readonly tracing: Tracing) {}

  get on(): boolean {
    return this.tracing.on;
  }

  /** A change's trace begins where its WAL record is decoded: a new trace, sampled by TRACING_SAMPLE_RATIO. */
  startDecode(): TraceSpan {
    return this.tracing.start('ingest.decode');
  }

  /** Ends the decode span; a sampled one is carried on by every event the change became. */
  decoded(span: TraceSpan, events: readonly ChangeEvent[]): void {
    if (!span.sampled) return span.end();
    // Described only once sampled: an unsampled change costs no attribute object.
    const first = events[0];
    span.setAttributes({ 'pipeline.events': events.length, ...(first ? { 'pipeline.table': `${first.source.schema}.${first.source.table}`, 'pipeline.op': first.op, 'pipeline.lsn': first.lsn, 'pipeline.commit_lsn': first.commitLsn } : {}) });
    span.end();
    const traceparent = span.traceparent;
    if (traceparent === undefined) return;
    const headers = { [TRACEPARENT_HEADER]: traceparent };
    for (const e of events) this.byEvent.set(e, headers);
  }

  /** The record headers of an event: its trace's traceparent, or none. */
  readonly headersOf = (e: ChangeEvent): Readonly<Record<string, string>> | undefined => this.byEvent.get(e);

  /** The traces of a batch's sampled events, for the batch span's links. */
  tracesOf(events: readonly ChangeEvent[]): string[] {
    const out: string[] = [];
    for (const e of events) {
      const h = this.byEvent.get(e);
      if (h) out.push(h[TRACEPARENT_HEADER]!);
    }
    return out;
  }
}
