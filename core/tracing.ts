import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, SamplingDecision, TracerProvider, type Sampler, type SamplingResult, type SpanExporter } from '@opentelemetry/sdk-trace';
import { JsonLinesSpanExporter } from './trace-file-exporter';

/**
 * Traces across stages (docs/operations.md, "Traces"). A port in front of OpenTelemetry: when
 * tracing is off every method is a no-op on shared objects, so callers guard their tracing work
 * with `if (tracing.on)` and the off path costs that branch (bench/tracing-cost.bench.ts).
 * Context crosses Kafka as a W3C `traceparent` record header (TRACEPARENT_HEADER).
 */
export interface Tracing {
  readonly on: boolean;
  /** Starts a span; the caller ends it. */
  start(name: string, opts?: SpanOptions): TraceSpan;
  /** Runs `fn` in a span that is the active context (spans started inside without a parent are its children), ends it when `fn` settles. */
  inSpan<T>(name: string, opts: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Exports what is buffered now (benches and tests; the services export on a timer). */
  flush(): Promise<void>;
  /** Exports what is buffered and stops; spans started after it are dropped. */
  shutdown(): Promise<void>;
}

export interface TraceSpan {
  /** Recorded and exported: only a sampled span's context is worth carrying to the next stage. */
  readonly sampled: boolean;
  /** This span as a W3C traceparent header value; undefined when not sampled. */
  readonly traceparent: string | undefined;
  setAttributes(attributes: Attributes): void;
  /** Ends the span; with an error it is marked failed and the error recorded. */
  end(err?: unknown): void;
}

export interface SpanOptions {
  /**
   * A span of this process, or the traceparent header another stage sent. Default: the active span
   * (inSpan), else none: a new trace, sampled by TRACING_SAMPLE_RATIO.
   */
  parent?: TraceSpan | string;
  /** Spans of other traces this one works for (a batch of many changes); a root span linked to a sampled one is sampled. */
  links?: ReadonlyArray<TraceSpan | string>;
  attributes?: Attributes;
  kind?: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
}

export const TRACEPARENT_HEADER = 'traceparent';

/** Links per span at most: a batch of thousands of sampled changes links to the first ones only. */
export const MAX_LINKS = 128;

export type TracingExporter = 'off' | 'console' | 'file' | 'otlp';

export interface TracingConfig {
  /** TRACING: off | console | file | otlp. Default: off. */
  exporter: TracingExporter;
  /** TRACING_SAMPLE_RATIO: share of new traces recorded, 0..1. Default: 0.01. */
  sampleRatio: number;
  /** TRACING_FILE: JSON lines file of TRACING=file. */
  file: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's OTLP/HTTP base URL (spans go to <url>/v1/traces). */
  otlpEndpoint: string;
  /** OTEL_SERVICE_NAME; default: the service's own name. */
  serviceName?: string;
  /** How long finished spans wait to be exported together, ms (TRACING_EXPORT_DELAY_MS). Default: 2000. */
  exportDelayMs: number;
}

const NO_SPAN: TraceSpan = Object.freeze({ sampled: false, traceparent: undefined, setAttributes: () => undefined, end: () => undefined });

export const noTracing: Tracing = Object.freeze({
  on: false,
  start: () => NO_SPAN,
  inSpan: <T>(_name: string, _opts: SpanOptions, fn: (span: TraceSpan) => Promise<T>) => fn(NO_SPAN),
  flush: async () => undefined,
  shutdown: async () => undefined,
});

/** The tracing a service's config asks for: noTracing when TRACING=off. */
export function createTracing(config: Readonly<TracingConfig>, service: string): Tracing {
  if (config.exporter === 'off') return noTracing;
  return new SdkTracing(config, service, exporterFor(config));
}

/** For tests and benches: tracing into a given exporter; `maxQueueSize`: spans held for export before new ones are dropped (default 2048). */
export function tracingWith(exporter: SpanExporter, opts: { service: string; sampleRatio: number; exportDelayMs?: number; maxQueueSize?: number }): Tracing {
  return new SdkTracing({ exporter: 'console', sampleRatio: opts.sampleRatio, file: '', otlpEndpoint: '', exportDelayMs: opts.exportDelayMs ?? 2000 }, opts.service, exporter, opts.maxQueueSize);
}

function exporterFor(config: Readonly<TracingConfig>): SpanExporter {
  switch (config.exporter) {
    case 'console':
      return new ConsoleSpanExporter();
    case 'file':
      return new JsonLinesSpanExporter(config.file);
    default:
      return new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` });
  }
}

const w3c = new W3CTraceContextPropagator();
const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: (c: Record<string, string>) => Object.keys(c) };
const setter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };
const KINDS = { internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER } as const;
let contextManagerSet = false;

class SdkTracing implements Tracing {
  readonly on = true;
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly ratio: number;

  constructor(config: Readonly<TracingConfig>, service: string, exporter: SpanExporter, maxQueueSize?: number) {
    if (!contextManagerSet) {
      // One per process: spans of concurrent requests must not become each other's children.
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      contextManagerSet = true;
    }
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName ?? service }),
      sampler: new ParentBasedSampler({ root: new LinkedOrKeptSampler() }),
      spanLimits: { linkCountLimit: MAX_LINKS },
      // A full queue drops spans rather than wait: tracing never slows the pipeline down.
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.exportDelayMs, ...(maxQueueSize ? { maxQueueSize } : {}) })],
    });
    this.tracer = this.provider.getTracer('search-pipeline');
    this.ratio = config.sampleRatio;
  }

  start(name: string, opts: SpanOptions = {}): TraceSpan {
    const parent = opts.parent === undefined ? context.active() : contextOf(opts.parent);
    // A new trace is drawn here, before the SDK makes ids, a sampler call and a span object for
    // it: a change not sampled then costs one random number (bench/tracing-cost.bench.ts).
    if (opts.links === undefined && this.ratio < 1 && trace.getSpan(parent) === undefined && Math.random() >= this.ratio) return NO_SPAN;
    const links: Link[] = [];
    for (const l of opts.links ?? []) {
      if (links.length >= MAX_LINKS) break;
      const sc = trace.getSpanContext(contextOf(l));
      if (sc) links.push({ context: sc });
    }
    return new SdkSpan(this.tracer.startSpan(name, { kind: KINDS[opts.kind ?? 'internal'], attributes: opts.attributes, links }, parent));
  }

  async inSpan<T>(name: string, opts: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T> {
    const span = this.start(name, opts) as SdkSpan;
    try {
      const out = await context.with(trace.setSpan(context.active(), span.otel), () => fn(span));
      span.end();
      return out;
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

class SdkSpan implements TraceSpan {
  readonly sampled: boolean;
  private header: string | undefined;
  constructor(readonly otel: Span) {
    this.sampled = (otel.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  get traceparent(): string | undefined {
    if (!this.sampled) return undefined;
    if (this.header === undefined) {
      const carrier: Record<string, string> = {};
      w3c.inject(trace.setSpan(ROOT_CONTEXT, this.otel), carrier, setter);
      this.header = carrier[TRACEPARENT_HEADER];
    }
    return this.header;
  }

  setAttributes(attributes: Attributes): void {
    this.otel.setAttributes(attributes);
  }

  end(err?: unknown): void {
    if (err !== undefined) {
      this.otel.recordException(err instanceof Error ? err : String(err));
      this.otel.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    }
    this.otel.end();
  }
}

function contextOf(parent: TraceSpan | string): Context {
  if (typeof parent === 'string') return w3c.extract(ROOT_CONTEXT, { [TRACEPARENT_HEADER]: parent }, getter);
  return parent instanceof SdkSpan ? trace.setSpan(ROOT_CONTEXT, parent.otel) : ROOT_CONTEXT;
}

/**
 * Root spans: one linked to spans is sampled when any of them is, so a batch span (produce, bulk,
 * refresh) is kept whenever a change it carries is, and dropped with them; one without links was
 * drawn by TRACING_SAMPLE_RATIO in `start` already. (Children follow their parent: ParentBased.)
 */
class LinkedOrKeptSampler implements Sampler {
  shouldSample(_ctx: Context, _traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes, links: Link[]): SamplingResult {
    if (links.length) return { decision: links.some((l) => (l.context.traceFlags & TraceFlags.SAMPLED) !== 0) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return 'LinkedOrKept';
  }
}
