import net from 'node:net';
import { isKafkaUnavailable } from '../../../core/kafka-unavailable';
import { BrokerConnection } from './broker-connection';
import { socketError } from './broker-socket';
import { KafkaBrokerUnavailable, KafkaSecurityRejected } from './wire-errors';

const failure = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('broker socket failures in wire terms', () => {
  it('a broker certificate that does not verify: not worth a retry, names KAFKA_TLS_CA_FILE', () => {
    for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']) {
      const e = socketError('b:9093', true, failure(code));
      expect(e).toBeInstanceOf(KafkaSecurityRejected);
      expect(e.message).toMatch(/^TLS to Kafka broker b:9093 failed: its certificate does not verify .*KAFKA_TLS_CA_FILE/);
      expect(isKafkaUnavailable(e)).toBe(false);
    }
  });

  it('a client certificate refused by the broker: names KAFKA_TLS_CERT_FILE / KEY_FILE', () => {
    const e = socketError('b:9093', true, failure('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'));
    expect(e).toBeInstanceOf(KafkaSecurityRejected);
    expect(e.message).toMatch(/refused the TLS handshake .*KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/);
  });

  it('a lost connection stays worth a retry (a broker restarting)', () => {
    const e = socketError('b:9093', false, failure('ECONNRESET', 'read ECONNRESET'));
    expect(e).toBeInstanceOf(KafkaBrokerUnavailable);
    expect(e.message).toBe('connection error to broker b:9093: read ECONNRESET');
  });

  it('TLS to a listener that is not TLS: the handshake fails with a message saying so', async () => {
    // A plaintext Kafka listener reads the ClientHello as a request and answers with non-TLS bytes, or hangs up.
    const server = net.createServer((s) => s.on('data', () => s.end(Buffer.from('\u0000\u0000\u0000\u0004nope'))).on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const c = new BrokerConnection('127.0.0.1', port, { connectTimeoutMs: 5_000, requestTimeoutMs: 5_000, security: { tls: {} } });
    try {
      const err = await c.request(1, [Buffer.alloc(4)]).then(() => undefined, (e: Error) => e);
      expect(err).toBeInstanceOf(KafkaBrokerUnavailable);
      expect(err!.message).toMatch(new RegExp(`^(TLS handshake with Kafka broker 127.0.0.1:${port} failed|connection error to broker 127.0.0.1:${port}: .*during the TLS handshake).*KAFKA_TLS=1 needs an SSL or SASL_SSL listener there\\.$`));
    } finally {
      c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
