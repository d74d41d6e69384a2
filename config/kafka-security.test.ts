import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKafkaSecurity } from './kafka-security';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

describe('Kafka TLS and SASL config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-sec-'));
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const ca = file('ca.pem', CERT);
  const cert = file('client.pem', CERT);
  const key = file('client.key', KEY);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is plaintext without authentication by default', () => {
    expect(loadKafkaSecurity({})).toEqual({});
  });
  it('turns TLS on with KAFKA_TLS=1 alone (system CAs), or with a CA and a client certificate', () => {
    expect(loadKafkaSecurity({ KAFKA_TLS: '1' })).toEqual({ tls: {} });
    expect(loadKafkaSecurity({ KAFKA_TLS_CA_FILE: ca })).toEqual({ tls: { ca: CERT } });
    expect(loadKafkaSecurity({ KAFKA_TLS_CA_FILE: ca, KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: key })).toEqual({ tls: { ca: CERT, cert: CERT, key: KEY } });
  });
  it('takes SASL PLAIN and SCRAM, with or without TLS', () => {
    expect(loadKafkaSecurity({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
    expect(loadKafkaSecurity({ KAFKA_TLS: '1', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual({ tls: {}, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    expect(loadKafkaSecurity({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).sasl?.mechanism).toBe('scram-sha-256');
  });
  it('names the variable and the fix for each bad setting', () => {
    expect(() => loadKafkaSecurity({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/KAFKA_SASL_MECHANISM="gssapi" is not one of plain, scram-sha-256, scram-sha-512/);
    expect(() => loadKafkaSecurity({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toThrow(/KAFKA_SASL_PASSWORD is not set; KAFKA_SASL_MECHANISM=plain needs/);
    expect(() => loadKafkaSecurity({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/without KAFKA_SASL_MECHANISM/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS_CERT_FILE: cert })).toThrow(/KAFKA_TLS_KEY_FILE is not set; a client certificate needs both/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS: '0', KAFKA_TLS_CA_FILE: ca })).toThrow(/KAFKA_TLS=0 but KAFKA_TLS_CA_FILE/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS: 'yes' })).toThrow(/KAFKA_TLS="yes" is not an integer/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS_CA_FILE: path.join(dir, 'nope.pem') })).toThrow(/KAFKA_TLS_CA_FILE=".*nope\.pem" cannot be read \(ENOENT\)/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS_CA_FILE: key })).toThrow(/KAFKA_TLS_CA_FILE=.* holds no PEM certificate/);
    expect(() => loadKafkaSecurity({ KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: ca })).toThrow(/KAFKA_TLS_KEY_FILE=.* holds no PEM private key/);
  });
});
