import type { TraceSpan, Tracing } from '../../core/tracing';

/** Spans waiting for one refresh at most: a stalled watermark task drops later ones rather than hold memory. */
const MAX_WAITING = 10_000;

/**
 * Traced changes whose documents are durable, waiting for the refresh that makes them
 * searchable (docs/operations.md, "Traces"). The watermark task takes them with the positions,
 * refreshes in an `indexer.refresh` span linked to them, then ends them: each change's trace ends
 * where a search finds it. A failed refresh puts them back for the next one.
 */
export class SearchableSpans {
  private waiting: TraceSpan[] = [];
  constructor(private readonly tracing: Tracing) {}

  add(spans: readonly TraceSpan[]): void {
    for (const s of spans) {
      if (this.waiting.length < MAX_WAITING) this.waiting.push(s);
      else s.end(); // ends unmeasured: the watermark age shows the stall
    }
  }

  take(): TraceSpan[] {
    const taken = this.waiting;
    this.waiting = [];
    return taken;
  }

  restore(taken: readonly TraceSpan[]): void {
    this.waiting = [...taken, ...this.waiting];
  }

  /** The refresh's span, linked to the changes it makes searchable; undefined when none is traced. */
  refreshSpan(taken: readonly TraceSpan[], indexes: readonly string[]): TraceSpan | undefined {
    if (!taken.length || !this.tracing.on) return undefined;
    return this.tracing.start('indexer.refresh', { kind: 'client', links: taken, attributes: { 'pipeline.indexes': indexes.join(','), 'pipeline.traced_events': taken.length } });
  }

  /** The changes are searchable (or there was nothing to refresh). */
  searchable(taken: readonly TraceSpan[]): void {
    for (const s of taken) s.end();
  }
}
