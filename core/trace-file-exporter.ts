import fs from 'node:fs';
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** One exported span as a line of TRACING_FILE. */
export interface SpanLine {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** µs since the epoch, and µs long. */
  start: number;
  duration: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  status: 'ok' | 'error';
  error?: string;
}

/**
 * TRACING=file: spans as JSON lines, appended, for a local run without a collector (and for the
 * tests, which read them back). Exports are appended one after another, each in one write; give
 * each service its own file rather than rely on appends of several processes not interleaving.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  private writing: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const text = spans.map((s) => `${JSON.stringify(spanLine(s))}\n`).join('');
    this.writing = this.writing.then(() => fs.promises.appendFile(this.file, text)).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async forceFlush(): Promise<void> {
    await this.writing;
  }

  async shutdown(): Promise<void> {
    await this.writing;
  }
}

export function spanLine(s: ReadableSpan): SpanLine {
  const sc = s.spanContext();
  return {
    service: String(s.resource.attributes['service.name'] ?? ''),
    name: s.name,
    traceId: sc.traceId,
    spanId: sc.spanId,
    ...(s.parentSpanContext ? { parentSpanId: s.parentSpanContext.spanId } : {}),
    start: hrTimeToMicroseconds(s.startTime),
    duration: hrTimeToMicroseconds(s.duration),
    attributes: { ...s.attributes },
    links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    status: s.status.code === 2 ? 'error' : 'ok',
    ...(s.status.message ? { error: s.status.message } : {}),
  };
}

/** Reads a TRACING_FILE back (tests, tools); a line cut by a crash is skipped. */
export function readSpanLines(file: string): SpanLine[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    try {
      return [JSON.parse(l) as SpanLine];
    } catch {
      return [];
    }
  });
}
