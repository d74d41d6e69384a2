import net from 'node:net';
import tls from 'node:tls';
import type { KafkaSecurity } from '../../../core/kafka-security';
import { KafkaBrokerUnavailable, KafkaSecurityRejected } from './wire-errors';

/**
 * Opens the socket to one broker: plain TCP, or TLS with KAFKA_TLS_CA_FILE's CAs (the system
 * ones without it) and KAFKA_TLS_CERT_FILE/KEY_FILE as client certificate. The broker's
 * certificate must name the host as KAFKA_BROKERS / the metadata give it (SNI carries it when it
 * is a name; an IP must be in the certificate's IP SANs). `ready` resolves once the socket is
 * writable (after the TLS handshake), or rejects with the failure in wire terms (socketError).
 */
export function dialBroker(host: string, port: number, security: KafkaSecurity): { socket: net.Socket; ready: Promise<void> } {
  const broker = `${host}:${port}`;
  const t = security.tls;
  const socket = t
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...(t.ca ? { ca: [t.ca] } : {}), ...(t.cert ? { cert: t.cert, key: t.key } : {}) })
    : net.connect({ host, port });
  socket.setNoDelay(true);
  const ready = new Promise<void>((resolve, reject) => {
    socket.once(t ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the connection was set up')));
  });
  return { socket, ready: ready.then(() => void socket.removeAllListeners('close'), (err: Error) => Promise.reject(socketError(broker, t !== undefined, err))) };
}

// Node's codes for a broker certificate that does not verify (OpenSSL's X509 errors and Node's name check).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);
// The broker's TLS alerts when it wants a client certificate and got none, or one it does not trust.
const CLIENT_CERT_REFUSED = /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED|HANDSHAKE_FAILURE)/;

/**
 * A socket failure in wire terms: certificates refused → KafkaSecurityRejected; anything else is
 * worth a retry. `handshaking`: TLS was being set up, so a plaintext listener is a likely cause.
 */
export function socketError(broker: string, handshaking: boolean, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.has(code)) {
    return new KafkaSecurityRejected(`TLS to Kafka broker ${broker} failed: its certificate does not verify (${code}: ${err.message}). KAFKA_TLS_CA_FILE must hold the CA that signed the brokers' certificates (the system CAs are used without it), and each certificate must name the address the client connects to.`, { variable: 'KAFKA_TLS_CA_FILE' });
  }
  if (CLIENT_CERT_REFUSED.test(code)) {
    return new KafkaSecurityRejected(`Kafka broker ${broker} refused the TLS handshake (${code}): it most likely wants a client certificate it trusts; check KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE.`, { variable: 'KAFKA_TLS_CERT_FILE' });
  }
  if (handshaking && /^ERR_SSL_/.test(code)) {
    // OpenSSL's message spans lines and names its source files; its reason is the part that helps.
    const reason = (err as { reason?: string }).reason ?? err.message;
    return new KafkaBrokerUnavailable(`TLS handshake with Kafka broker ${broker} failed (${code}: ${reason}); KAFKA_TLS=1 needs an SSL or SASL_SSL listener there.`, { cause: err });
  }
  return new KafkaBrokerUnavailable(`connection error to broker ${broker}: ${err.message}${handshaking ? ' (during the TLS handshake; KAFKA_TLS=1 needs an SSL or SASL_SSL listener there)' : ''}`, { cause: err });
}
