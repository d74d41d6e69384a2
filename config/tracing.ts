import path from 'node:path';
import { ConfigError } from '../core/errors';
import type { TracingConfig, TracingExporter } from '../core/tracing';
import { int, optionalStr, str, url, type Env } from './env';

const EXPORTERS: readonly TracingExporter[] = ['off', 'console', 'file', 'otlp'];

/**
 * Traces (docs/operations.md, "Traces"): TRACING=off|console|file|otlp, TRACING_SAMPLE_RATIO,
 * TRACING_FILE, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, TRACING_EXPORT_DELAY_MS. Every
 * service reads the same variables; the service name defaults to the service's own.
 */
export function loadTracingConfig(env: Env): Readonly<TracingConfig> {
  const exporter = str(env, 'TRACING', 'off').toLowerCase() as TracingExporter;
  if (!EXPORTERS.includes(exporter)) throw new ConfigError(`TRACING=${JSON.stringify(env.TRACING)} is not one of ${EXPORTERS.join(', ')} (default off).`, { variable: 'TRACING' });
  const serviceName = optionalStr(env, 'OTEL_SERVICE_NAME');
  return Object.freeze({
    exporter,
    sampleRatio: ratio(env, 'TRACING_SAMPLE_RATIO', 0.01),
    file: path.resolve(str(env, 'TRACING_FILE', 'traces.jsonl')),
    otlpEndpoint: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:'], 'http://127.0.0.1:4318'),
    exportDelayMs: int(env, 'TRACING_EXPORT_DELAY_MS', 2000, 10, 60_000),
    ...(serviceName ? { serviceName } : {}),
  });
}

function ratio(env: Env, name: string, fallback: number): number {
  const raw = optionalStr(env, name);
  if (raw === undefined) return fallback;
  const n = /^(0|1|0?\.\d+|1\.0*)$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 1)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a ratio; expected a number from 0 to 1, e.g. 0.01 for one trace in a hundred (default ${fallback}).`, { variable: name });
  return n;
}
