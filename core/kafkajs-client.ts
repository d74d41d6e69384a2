import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import type { KafkaClient } from './kafka-client';
import type { KafkaSecurity } from './kafka-security';
import { kafkajsCluster } from './kafkajs-cluster';
import { kafkajsGroupConsumer } from './kafkajs-group-consumer';
import { kafkaLogLevel } from './kafkajs-log';
import { kafkajsProducer } from './kafkajs-producer';
import type { Logger } from './logger';

/** The Kafka client ports through kafkajs (one client: its connections and metadata are shared by the ports it made). */
export function kafkajsClient(kafka: Kafka): KafkaClient {
  return {
    cluster: () => kafkajsCluster(kafka),
    producer: (opts = {}) => kafkajsProducer(kafka, opts.retry ? { retry: { retries: opts.retry.retries, initialRetryTime: opts.retry.initialMs, maxRetryTime: opts.retry.maxMs } } : {}),
    groupConsumer: (opts) => kafkajsGroupConsumer(kafka, opts),
  };
}

/** A kafkajs client whose logs go through our structured logger; `security`: TLS and SASL (KAFKA_TLS*, KAFKA_SASL_*). */
export function createKafkajs(brokers: string[], clientId: string, log: Logger, security: KafkaSecurity = {}): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ...kafkajsSecurity(security),
    logLevel: logLevel.WARN,
    // kafkajs's 1 s default includes the TLS handshake, which a loaded host (or a far broker) can
    // take longer than: each miss is a logged "Connection timeout" and a retry for nothing.
    connectionTimeout: security.tls ? 5_000 : 3_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
    // Known-harmless broker answers go below error (core/kafkajs-log.ts has the table and why).
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...rest } = entry;
      log[kafkaLogLevel({ namespace, level, message, error: rest.error })](message, { kafkajs: namespace, ...rest });
    },
  });
}

/** A kafkajs client for a one-shot tool: quiet (the tool reports failures itself) and quick to give up. */
export function createToolKafkajs(brokers: string[], clientId: string, timeoutMs: number, security: KafkaSecurity = {}): Kafka {
  return new Kafka({ clientId, brokers, ...kafkajsSecurity(security), logLevel: logLevel.NOTHING, connectionTimeout: Math.min(timeoutMs, 10_000), requestTimeout: timeoutMs, retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 } });
}

/** The kafkajs options that carry TLS and SASL. */
export function kafkajsSecurity(s: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (s.tls) out.ssl = s.tls.ca || s.tls.cert ? { ...(s.tls.ca ? { ca: [s.tls.ca] } : {}), ...(s.tls.cert ? { cert: s.tls.cert, key: s.tls.key } : {}) } : true;
  if (s.sasl) out.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } as KafkaConfig['sasl'];
  return out;
}
