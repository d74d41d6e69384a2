/** TLS and SASL of the Kafka connections, as config/kafka-security.ts reads them. Empty: plaintext. */
export interface KafkaSecurity {
  /** TLS on; `ca` replaces the system CAs, `cert` + `key` present a client certificate (PEM texts). */
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export const PLAINTEXT: KafkaSecurity = Object.freeze({});
