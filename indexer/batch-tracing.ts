import type { TraceSpan, Tracing } from '../core/tracing';
import type { BatchDeps, BatchResult, PreparedBatch } from './batch-processor';
import type { DocumentSink } from './sink/es-document-sink';

/**
 * Writes a batch that carries sampled changes (`traces`: their traceparent headers) inside its
 * spans (docs/operations.md, "Traces"). One `indexer.batch` span, linked to every traced change in
 * it (a span has one parent, a batch carries many traces), with the bulk requests as its children;
 * and per change one `indexer.searchable` span in the change's own trace, handed to
 * `deps.searchable` once the batch is durable and ended after the refresh that makes it findable.
 */
export async function writeTraced(
  prepared: PreparedBatch,
  traces: readonly string[],
  deps: BatchDeps,
  tracing: Tracing,
  write: (prepared: PreparedBatch, deps: BatchDeps) => Promise<BatchResult>,
): Promise<BatchResult> {
  const where = { 'messaging.destination.name': prepared.topic, 'messaging.destination.partition.id': String(prepared.partition) };
  const batch = tracing.start('indexer.batch', { kind: 'consumer', links: traces, attributes: { ...where, 'pipeline.traced_events': traces.length } });
  const changes = traces.map((parent) => tracing.start('indexer.searchable', { parent, links: [batch], attributes: where }));
  try {
    const result = await write(prepared, { ...deps, sink: tracedSink(deps.sink, tracing, batch) });
    batch.setAttributes({ 'pipeline.ops': result.ops, 'pipeline.dead_letters': result.deadLetters });
    batch.end();
    if (deps.searchable) deps.searchable(changes);
    else for (const c of changes) c.end();
    return result;
  } catch (err) {
    batch.end(err);
    for (const c of changes) c.end(err); // read again from this batch: the retry traces the change again
    throw err;
  }
}

/** Bulk requests as children of the batch span. */
function tracedSink(sink: DocumentSink, tracing: Tracing, batch: TraceSpan): DocumentSink {
  return {
    write: async (ops, keepAlive) => {
      const span = tracing.start('indexer.bulk', { parent: batch, kind: 'client', attributes: { 'pipeline.docs': ops.length } });
      try {
        const dead = await sink.write(ops, keepAlive);
        span.setAttributes({ 'pipeline.dead_letters': dead.length });
        span.end();
        return dead;
      } catch (err) {
        span.end(err);
        throw err;
      }
    },
  };
}
