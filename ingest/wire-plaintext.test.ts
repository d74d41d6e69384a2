import { loadIngestConfig } from '../config';
import { createIngest, type IngestDeps } from './ingest-service';

/** The CDC producer (ingest/sink/wire) has no TLS or SASL: ingest says so instead of connecting in plaintext. */
describe('ingest with Kafka TLS or SASL configured', () => {
  const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:9092' };
  const deps = (extra: Record<string, string>): IngestDeps => ({ config: loadIngestConfig({ ...env, ...extra }) } as unknown as IngestDeps);
  it('refuses to start, naming the variable and what does support it', () => {
    expect(() => createIngest(deps({ KAFKA_TLS: '1' }))).toThrow(/KAFKA_TLS \/ KAFKA_SASL_MECHANISM are set, but ingest's change-data producer \(ingest\/sink\/wire\) speaks plaintext Kafka only/);
    expect(() => createIngest(deps({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }))).toThrow(/the event intake, the indexer and the reindex CLI support them/);
  });
});
