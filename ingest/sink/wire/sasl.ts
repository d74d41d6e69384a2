import type { KafkaSecurity } from '../../../core/kafka-security';
import { ScramClient, ScramError } from './scram';
import { KafkaSecurityRejected } from './wire-errors';

export type SaslCredentials = NonNullable<KafkaSecurity['sasl']>;

/** One request on the connection being authenticated: api key, version, body → the response body after the correlation id. */
export type RoundTrip = (apiKey: number, apiVersion: number, body: Buffer) => Promise<Buffer>;

const SASL_HANDSHAKE = { key: 17, version: 1 };
// v1 is the first with session_lifetime_ms; v2 only changes the encoding (flexible versions).
const SASL_AUTHENTICATE = { key: 36, version: 1 };

const MECHANISM_NAMES: Record<SaslCredentials['mechanism'], string> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };

/**
 * Logs a fresh connection in (KIP-152): SaslHandshake v1 names the mechanism, then its tokens go
 * in SaslAuthenticate requests: one for PLAIN, two for SCRAM (client-first → server-first,
 * client-final → server-final, whose signature is checked). Resolves with how long the broker
 * keeps the session (0: for the connection's life). A refusal is KafkaSecurityRejected, naming
 * the variables to fix; a connection lost meanwhile fails the round trip as it would any request.
 */
export async function saslAuthenticate(roundTrip: RoundTrip, sasl: SaslCredentials, broker: string): Promise<{ sessionLifetimeMs: number }> {
  const mechanism = MECHANISM_NAMES[sasl.mechanism];
  const handshake = decodeHandshake(await roundTrip(SASL_HANDSHAKE.key, SASL_HANDSHAKE.version, kafkaString(mechanism)));
  if (handshake.errorCode === 33) {
    throw new KafkaSecurityRejected(`Kafka broker ${broker} does not take SASL mechanism ${mechanism} (KAFKA_SASL_MECHANISM=${sasl.mechanism}); it takes ${handshake.mechanisms.join(', ') || 'none'}.`, { variable: 'KAFKA_SASL_MECHANISM' });
  }
  if (handshake.errorCode !== 0) {
    throw new KafkaSecurityRejected(`Kafka broker ${broker} refused the SASL handshake (error code ${handshake.errorCode}${handshake.errorCode === 34 ? ', ILLEGAL_SASL_STATE' : ''}); is KAFKA_BROKERS a SASL listener (SASL_SSL or SASL_PLAINTEXT)?`, { variable: 'KAFKA_SASL_MECHANISM' });
  }
  const step = async (token: string): Promise<{ token: string; sessionLifetimeMs: number }> => {
    const r = decodeAuthenticate(await roundTrip(SASL_AUTHENTICATE.key, SASL_AUTHENTICATE.version, kafkaBytes(Buffer.from(token, 'utf8'))));
    if (r.errorCode !== 0) throw refused(sasl, mechanism, broker, `${r.errorMessage ?? 'no reason given'} (error code ${r.errorCode}${r.errorCode === 58 ? ', SASL_AUTHENTICATION_FAILED' : ''})`);
    return { token: r.authBytes.toString('utf8'), sessionLifetimeMs: r.sessionLifetimeMs };
  };
  if (sasl.mechanism === 'plain') return step(`\u0000${sasl.username}\u0000${sasl.password}`);
  const scram = new ScramClient(sasl.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', sasl.username, sasl.password);
  try {
    const serverFirst = await step(scram.first());
    const serverFinal = await step(scram.final(serverFirst.token));
    scram.verify(serverFinal.token);
    return serverFinal;
  } catch (err) {
    if (err instanceof ScramError) throw refused(sasl, mechanism, broker, err.message);
    throw err;
  }
}

function refused(sasl: SaslCredentials, mechanism: string, broker: string, why: string): KafkaSecurityRejected {
  return new KafkaSecurityRejected(`Kafka broker ${broker} refused the SASL ${mechanism} login of user ${JSON.stringify(sasl.username)}: ${why}. Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (and that the user has ${mechanism} credentials on the cluster).`, { variable: 'KAFKA_SASL_PASSWORD' });
}

function kafkaString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function kafkaBytes(b: Buffer): Buffer {
  const out = Buffer.alloc(4 + b.length);
  out.writeInt32BE(b.length, 0);
  b.copy(out, 4);
  return out;
}

/** SaslHandshake v1 response: error_code, mechanisms (the ones the listener takes). */
export function decodeHandshake(body: Buffer): { errorCode: number; mechanisms: string[] } {
  const errorCode = body.readInt16BE(0);
  const mechanisms: string[] = [];
  let o = 6;
  for (let n = body.readInt32BE(2); n > 0; n--) {
    const len = body.readInt16BE(o);
    mechanisms.push(body.toString('utf8', o + 2, o + 2 + len));
    o += 2 + len;
  }
  return { errorCode, mechanisms };
}

/** SaslAuthenticate v1 response: error_code, error_message (nullable), auth_bytes, session_lifetime_ms. */
export function decodeAuthenticate(body: Buffer): { errorCode: number; errorMessage: string | undefined; authBytes: Buffer; sessionLifetimeMs: number } {
  const errorCode = body.readInt16BE(0);
  const msgLen = body.readInt16BE(2);
  let o = 4;
  const errorMessage = msgLen < 0 ? undefined : body.toString('utf8', o, o + msgLen);
  o += Math.max(msgLen, 0);
  const bytesLen = body.readInt32BE(o);
  o += 4;
  const authBytes = bytesLen < 0 ? Buffer.alloc(0) : body.subarray(o, o + bytesLen);
  o += Math.max(bytesLen, 0);
  const sessionLifetimeMs = o + 8 <= body.length ? Number(body.readBigInt64BE(o)) : 0;
  return { errorCode, errorMessage, authBytes, sessionLifetimeMs };
}
