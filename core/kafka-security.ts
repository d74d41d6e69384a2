import type { KafkaConfig } from 'kafkajs';

/** TLS and SASL of the Kafka connections, as config/kafka-security.ts reads them. Empty: plaintext. */
export interface KafkaSecurity {
  /** TLS on; `ca` replaces the system CAs, `cert` + `key` present a client certificate (PEM texts). */
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export const PLAINTEXT: KafkaSecurity = Object.freeze({});

/** The kafkajs options that carry it. */
export function kafkajsSecurity(s: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (s.tls) out.ssl = s.tls.ca || s.tls.cert ? { ...(s.tls.ca ? { ca: [s.tls.ca] } : {}), ...(s.tls.cert ? { cert: s.tls.cert, key: s.tls.key } : {}) } : true;
  if (s.sasl) out.sasl = { mechanism: s.sasl.mechanism, username: s.sasl.username, password: s.sasl.password } as KafkaConfig['sasl'];
  return out;
}
