import { ConfigError } from '../core/errors';
import { loadTracingConfig } from './tracing';

describe('tracing config', () => {
  it('is off by default, sampling one trace in a hundred once on', () => {
    expect(loadTracingConfig({})).toMatchObject({ exporter: 'off', sampleRatio: 0.01, otlpEndpoint: 'http://127.0.0.1:4318', exportDelayMs: 2000 });
    expect(loadTracingConfig({ TRACING: 'OTLP', TRACING_SAMPLE_RATIO: '1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', OTEL_SERVICE_NAME: 'ingest-eu' })).toMatchObject({ exporter: 'otlp', sampleRatio: 1, otlpEndpoint: 'http://otel-collector:4318', serviceName: 'ingest-eu' });
    expect(loadTracingConfig({ TRACING: 'file', TRACING_SAMPLE_RATIO: '.25', TRACING_FILE: '/tmp/t.jsonl' })).toMatchObject({ exporter: 'file', sampleRatio: 0.25, file: '/tmp/t.jsonl' });
  });

  it.each([
    [{ TRACING: 'jaeger' }, 'TRACING', /not one of off, console, file, otlp/],
    [{ TRACING_SAMPLE_RATIO: '1.5' }, 'TRACING_SAMPLE_RATIO', /from 0 to 1/],
    [{ TRACING_SAMPLE_RATIO: '1%' }, 'TRACING_SAMPLE_RATIO', /not a ratio/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT', /not a URL|uses/],
    [{ TRACING_EXPORT_DELAY_MS: '0' }, 'TRACING_EXPORT_DELAY_MS', /out of range/],
  ])('refuses %j, naming %s', (env, variable, message) => {
    let err: unknown;
    try {
      loadTracingConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(message);
    expect((err as ConfigError).message).toContain(variable);
    expect((err as ConfigError).context).toMatchObject({ variable });
  });
});
