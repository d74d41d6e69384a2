import { CollectedSpans } from './collected-spans';
import { noTracing, tracingWith, type Tracing } from './tracing';

describe('tracing', () => {
  let exporter: CollectedSpans;
  const open: Tracing[] = [];
  const make = (sampleRatio: number): Tracing => {
    exporter = new CollectedSpans();
    const t = tracingWith(exporter, { service: 'test', sampleRatio, exportDelayMs: 10 });
    open.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  it('carries a trace to another stage through its traceparent: the remote child shares the trace id and names its parent', async () => {
    const ingest = make(1);
    const root = ingest.start('ingest.decode');
    const header = root.traceparent!;
    expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    root.end();
    const child = ingest.start('indexer.searchable', { parent: header });
    child.end();
    await ingest.shutdown();
    const [a, b] = exporter.spans;
    expect(b!.spanContext().traceId).toBe(a!.spanContext().traceId);
    expect(b!.parentSpanContext?.spanId).toBe(a!.spanContext().spanId);
  });

  it('samples new traces by the ratio, a batch span linked to a sampled change always, one linked to none never', async () => {
    const never = make(0);
    const dropped = never.start('ingest.decode');
    expect([dropped.sampled, dropped.traceparent]).toEqual([false, undefined]);
    const sampledElsewhere = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(never.start('indexer.batch', { links: [sampledElsewhere] }).sampled).toBe(true);
    expect(never.start('indexer.batch', { links: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'] }).sampled).toBe(false);
    // The sending stage decided: a sampled parent is followed whatever this ratio says.
    expect(never.start('indexer.searchable', { parent: sampledElsewhere }).sampled).toBe(true);
  });

  it('makes spans started inside inSpan its children, and marks a failed one', async () => {
    const t = make(1);
    await expect(t.inSpan('api.request', {}, async () => {
      t.start('api.cache').end();
      throw new Error('boom');
    })).rejects.toThrow('boom');
    await t.shutdown();
    const spans = exporter.spans;
    const request = spans.find((s) => s.name === 'api.request')!;
    expect(spans.find((s) => s.name === 'api.cache')!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(request.status.code).toBe(2);
  });

  it('is a no-op when off', async () => {
    const span = noTracing.start('x', { parent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect([noTracing.on, span.sampled, span.traceparent]).toEqual([false, false, undefined]);
    await expect(noTracing.inSpan('x', {}, async () => 7)).resolves.toBe(7);
  });
});
