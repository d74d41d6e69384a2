import fs from 'node:fs';
import type { KafkaSecurity } from '../core/kafka-security';
import { ConfigError } from '../core/errors';
import { int, optionalStr, type Env } from './env';

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/**
 * TLS and SASL for the Kafka connections (docs/scaling.md): KAFKA_TLS=1 (implied by any
 * KAFKA_TLS_* file), KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE + KAFKA_TLS_KEY_FILE (a client
 * certificate), KAFKA_SASL_MECHANISM (plain, scram-sha-256, scram-sha-512) with
 * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. Default: plaintext, no authentication.
 */
export function loadKafkaSecurity(env: Env): Readonly<KafkaSecurity> {
  const ca = pem(env, 'KAFKA_TLS_CA_FILE', 'CERTIFICATE');
  const cert = pem(env, 'KAFKA_TLS_CERT_FILE', 'CERTIFICATE');
  const key = pem(env, 'KAFKA_TLS_KEY_FILE', 'PRIVATE KEY');
  if (Boolean(cert) !== Boolean(key)) {
    const missing = cert ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE';
    throw new ConfigError(`${missing} is not set; a client certificate needs both KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE.`, { variable: missing });
  }
  const tlsFlag = optionalStr(env, 'KAFKA_TLS') ? int(env, 'KAFKA_TLS', 0, 0, 1) === 1 : undefined;
  if (tlsFlag === false && (ca || cert)) throw new ConfigError('KAFKA_TLS=0 but KAFKA_TLS_CA_FILE or KAFKA_TLS_CERT_FILE is set; set KAFKA_TLS=1 (or unset it) to use them, or remove the files.', { variable: 'KAFKA_TLS' });
  const tls = tlsFlag ?? Boolean(ca || cert);
  const rawMechanism = optionalStr(env, 'KAFKA_SASL_MECHANISM')?.toLowerCase();
  const username = optionalStr(env, 'KAFKA_SASL_USERNAME');
  const password = optionalStr(env, 'KAFKA_SASL_PASSWORD');
  let sasl: KafkaSecurity['sasl'];
  if (rawMechanism) {
    if (!(MECHANISMS as readonly string[]).includes(rawMechanism)) throw new ConfigError(`KAFKA_SASL_MECHANISM=${JSON.stringify(rawMechanism)} is not one of ${MECHANISMS.join(', ')}.`, { variable: 'KAFKA_SASL_MECHANISM' });
    if (!username || !password) {
      const missing = username ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME';
      throw new ConfigError(`${missing} is not set; KAFKA_SASL_MECHANISM=${rawMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD.`, { variable: missing });
    }
    sasl = { mechanism: rawMechanism as (typeof MECHANISMS)[number], username, password };
  } else if (username || password) {
    throw new ConfigError('KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set without KAFKA_SASL_MECHANISM; set it to plain, scram-sha-256 or scram-sha-512.', { variable: 'KAFKA_SASL_MECHANISM' });
  }
  return Object.freeze({
    ...(tls ? { tls: Object.freeze({ ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) }) } : {}),
    ...(sasl ? { sasl: Object.freeze(sasl) } : {}),
  });
}

function pem(env: Env, name: string, kind: string): string | undefined {
  const file = optionalStr(env, name);
  if (!file) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}=${JSON.stringify(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected the path of a PEM file.`, { variable: name });
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) throw new ConfigError(`${name}=${JSON.stringify(file)} holds no PEM ${kind.toLowerCase()} (no "-----BEGIN ...${kind}-----" line).`, { variable: name });
  return text;
}
