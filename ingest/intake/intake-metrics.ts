import { Counter, Histogram, type Registry } from 'prom-client';

/** Intake metrics, registered on ingest's registry so they appear on its /metrics. */
export function createIntakeMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'ingest_intake_events_total',
      help: 'Events received by POST /v1/events: outcome accepted (acknowledged by Kafka) or rejected, with the reason code; table is "other" for tables outside the pipeline config',
      labelNames: ['table', 'outcome', 'reason'] as const,
      registers: [registry],
    }),
    requests: new Counter({ name: 'ingest_intake_requests_total', help: 'POST /v1/events requests by HTTP status', labelNames: ['status'] as const, registers: [registry] }),
    produceSeconds: new Histogram({
      name: 'ingest_intake_produce_seconds',
      help: 'Time for Kafka to acknowledge one batch of intake events',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type IntakeMetrics = ReturnType<typeof createIntakeMetrics>;
