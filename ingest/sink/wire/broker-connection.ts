import net from 'node:net';
import { KafkaBrokerUnavailable } from './wire-errors';

/**
 * One TCP connection to one Kafka broker: size-prefixed requests out, responses matched by
 * correlation id (a broker answers a connection's requests in order). Connects on first use; when
 * the socket fails or a response is late, every request in flight fails with
 * KafkaBrokerUnavailable (worth retrying) and the next request opens a new socket.
 */
export class BrokerConnection {
  private socket: net.Socket | undefined;
  private connected: Promise<net.Socket> | undefined;
  private readonly pending = new Map<number, { resolve: (body: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: { connectTimeoutMs: number; requestTimeoutMs: number },
  ) {}

  /** Sends one request (its buffers written together) and resolves with the response after its correlation id. */
  async request(correlationId: number, parts: readonly Uint8Array[]): Promise<Buffer> {
    const socket = await this.connect();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new KafkaBrokerUnavailable(`broker ${this.host}:${this.port} did not answer within ${this.opts.requestTimeoutMs} ms`)), this.opts.requestTimeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      socket.cork();
      for (const p of parts) socket.write(p);
      socket.uncork();
    });
  }

  close(): void {
    this.fail(new KafkaBrokerUnavailable(`connection to broker ${this.host}:${this.port} closed`));
  }

  private connect(): Promise<net.Socket> {
    this.connected ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      this.socket = socket;
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.opts.connectTimeoutMs} ms`)), this.opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.on('data', (d: Buffer) => this.onData(d));
      // A socket already given up must not fail the one that replaced it.
      const lost = (e: Error) => {
        clearTimeout(timer);
        reject(e);
        if (this.socket === socket) this.fail(e);
      };
      socket.on('error', (err) => lost(new KafkaBrokerUnavailable(`connection error to broker ${this.host}:${this.port}: ${err.message}`, { cause: err })));
      socket.on('close', () => lost(new KafkaBrokerUnavailable(`broker ${this.host}:${this.port} closed the connection`)));
    });
    return this.connected;
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
