import type net from 'node:net';
import { PLAINTEXT, type KafkaSecurity } from '../../../core/kafka-security';
import { dialBroker, socketError } from './broker-socket';
import { saslAuthenticate } from './sasl';
import { KafkaBrokerUnavailable } from './wire-errors';

export interface BrokerConnectionOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** TLS and SASL (KAFKA_TLS*, KAFKA_SASL_*); default plaintext. */
  security?: KafkaSecurity;
  /** The client id of the SASL requests. */
  clientId?: string;
}

/**
 * One TCP (or TLS) connection to one Kafka broker: size-prefixed requests out, responses matched
 * by correlation id (a broker answers a connection's requests in order). Connects on first use,
 * logging in with SASL before the first request goes out; when the socket fails or a response is
 * late, every request in flight fails with KafkaBrokerUnavailable (worth retrying) and the next
 * request opens a new socket. Credentials refused fail with KafkaSecurityRejected (not worth it).
 */
export class BrokerConnection {
  private socket: net.Socket | undefined;
  private connected: Promise<net.Socket> | undefined;
  private readonly pending = new Map<number, { resolve: (body: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** When the broker ends the SASL session (connections.max.reauth.ms); a new socket logs in again before that. */
  private sessionEndsAt = Infinity;
  // The SASL requests' correlation ids: negative, apart from the caller's.
  private authId = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: BrokerConnectionOptions,
  ) {}

  /** Sends one request (its buffers written together) and resolves with the response after its correlation id. */
  async request(correlationId: number, parts: readonly Uint8Array[]): Promise<Buffer> {
    // A session about to end is replaced while nothing is in flight, rather than cut by the broker under a request.
    if (this.connected && this.pending.size === 0 && Date.now() >= this.sessionEndsAt) this.fail(new KafkaBrokerUnavailable('SASL session ending'));
    const socket = await this.connect();
    return this.exchange(socket, correlationId, parts);
  }

  close(): void {
    this.fail(new KafkaBrokerUnavailable(`connection to broker ${this.host}:${this.port} closed`));
  }

  private exchange(socket: net.Socket, correlationId: number, parts: readonly Uint8Array[]): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new KafkaBrokerUnavailable(`broker ${this.host}:${this.port} did not answer within ${this.opts.requestTimeoutMs} ms`)), this.opts.requestTimeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      socket.cork();
      for (const p of parts) socket.write(p);
      socket.uncork();
    });
  }

  private connect(): Promise<net.Socket> {
    this.connected ??= this.open();
    return this.connected;
  }

  /** Socket, TLS handshake, SASL login: all within connectTimeoutMs. */
  private async open(): Promise<net.Socket> {
    const security = this.opts.security ?? PLAINTEXT;
    const broker = `${this.host}:${this.port}`;
    const { socket, ready } = dialBroker(this.host, this.port, security);
    this.socket = socket;
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs);
    socket.on('data', (d: Buffer) => this.onData(d));
    // A socket already given up must not fail the one that replaced it.
    const lost = (e: Error) => {
      if (this.socket === socket) this.fail(e);
    };
    try {
      await ready;
      socket.on('error', (err) => lost(socketError(broker, false, err)));
      socket.on('close', () => lost(new KafkaBrokerUnavailable(`broker ${broker} closed the connection`)));
      this.sessionEndsAt = Infinity;
      if (security.sasl) {
        const roundTrip = (apiKey: number, version: number, body: Buffer) => {
          const id = this.nextAuthId();
          return this.exchange(socket, id, saslRequest(id, this.opts.clientId ?? 'ingest', apiKey, version, body));
        };
        const { sessionLifetimeMs } = await saslAuthenticate(roundTrip, security.sasl, broker);
        // Renewed at 90% of the lifetime, about when Kafka's own clients re-authenticate (85-95%).
        if (sessionLifetimeMs > 0) this.sessionEndsAt = Date.now() + sessionLifetimeMs * 0.9;
      }
      return socket;
    } catch (err) {
      lost(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private nextAuthId(): number {
    this.authId = this.authId <= -0x7fffffff ? -1 : this.authId - 1;
    return this.authId;
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.joined();
      const size = head.readInt32BE(0);
      if (this.buffered < 4 + size) return;
      const all = this.joined();
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      const correlationId = frame.readInt32BE(0);
      const p = this.pending.get(correlationId);
      if (!p) {
        this.fail(new KafkaBrokerUnavailable(`broker ${this.host}:${this.port} answered unknown correlation id ${correlationId}`));
        return;
      }
      this.pending.delete(correlationId);
      clearTimeout(p.timer);
      p.resolve(frame.subarray(4));
    }
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  /** Fails every request in flight and drops the socket; the next request connects again. */
  private fail(err: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    this.connected = undefined;
    this.chunks = [];
    this.buffered = 0;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    if (socket) {
      socket.removeAllListeners('data');
      socket.destroy();
    }
  }
}

/** Request header v1 (api key, version, correlation id, client id) and the body, size-prefixed. */
function saslRequest(correlationId: number, clientId: string, apiKey: number, version: number, body: Buffer): Buffer[] {
  const client = Buffer.from(clientId, 'utf8');
  const head = Buffer.alloc(4 + 2 + 2 + 4 + 2 + client.length);
  head.writeInt32BE(head.length - 4 + body.length, 0);
  head.writeInt16BE(apiKey, 4);
  head.writeInt16BE(version, 6);
  head.writeInt32BE(correlationId, 8);
  head.writeInt16BE(client.length, 12);
  client.copy(head, 14);
  return [head, body];
}
