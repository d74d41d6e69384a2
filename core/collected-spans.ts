import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** For tests: keeps every exported span, also past shutdown (the SDK's in-memory exporter forgets them there). */
export class CollectedSpans implements SpanExporter {
  readonly spans: ReadableSpan[] = [];

  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans.push(...spans);
    done({ code: 0 });
  }

  named(name: string): ReadableSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  async shutdown(): Promise<void> {}
}
