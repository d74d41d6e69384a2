import net from 'node:net';
import { isKafkaUnavailable } from '../../../core/kafka-unavailable';
import type { KafkaSecurity } from '../../../core/kafka-security';
import { scramServer } from '../../test-support/scram-server';
import { encodeRecordBatch } from './record-batch';
import { WireProducer, type LayoutSource } from './wire-producer';
import { KafkaSecurityRejected } from './wire-errors';

type Sasl = NonNullable<KafkaSecurity['sasl']>;
const user = { name: 'svc', password: 's3cret' };

/**
 * A broker of one partition on loopback that speaks just enough Kafka for ingest's producer:
 * SaslHandshake v1 and SaslAuthenticate v1 (PLAIN and SCRAM for `user`), then Produce v3, which it
 * answers only on a logged-in connection. `seen` lists every request as "key/version".
 */
async function fakeBroker(opts: { mechanisms?: string[]; sessionLifetimeMs?: number } = {}) {
  const seen: string[] = [];
  const produced: string[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let buf = Buffer.alloc(0);
    let mechanism = '';
    let scram: ReturnType<typeof scramServer> | undefined;
    let loggedIn = false;
    let step = 0;
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const [key, version, id] = [frame.readInt16BE(0), frame.readInt16BE(2), frame.readInt32BE(4)];
        const body = frame.subarray(10 + frame.readInt16BE(8));
        seen.push(`${key}/${version}`);
        const answer = (b: Buffer, close = false) => {
          const head = Buffer.alloc(8);
          head.writeInt32BE(4 + b.length, 0);
          head.writeInt32BE(id, 4);
          socket.write(Buffer.concat([head, b]));
          if (close) socket.end();
        };
        if (key === 17) {
          mechanism = body.toString('utf8', 2, 2 + body.readInt16BE(0));
          const offered = opts.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
          if (mechanism.startsWith('SCRAM')) scram = scramServer(mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512', user);
          answer(Buffer.concat([int16(offered.includes(mechanism) ? 0 : 33), int32(offered.length), ...offered.map(str)]));
        } else if (key === 36) {
          const token = body.toString('utf8', 4, 4 + body.readInt32BE(0));
          let reply = '';
          let ok: boolean;
          if (mechanism === 'PLAIN') ok = loggedIn = token === `\u0000${user.name}\u0000${user.password}`;
          else if (step++ === 0) ok = !(reply = scram!.first(token)).startsWith('e=');
          else ok = loggedIn = !(reply = scram!.final(token)).startsWith('e=');
          if (!ok) answer(Buffer.concat([int16(58), str(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`), int32(0), int64(0)]), true);
          else answer(Buffer.concat([int16(0), int16(-1), int32(Buffer.byteLength(reply)), Buffer.from(reply), int64(loggedIn ? opts.sessionLifetimeMs ?? 0 : 0)]));
        } else if (key === 0) {
          if (!loggedIn) return void socket.destroy(); // as a SASL listener treats a request before login
          produced.push('batch');
          answer(Buffer.concat([int32(1), str('t'), int32(1), int32(0), int16(0), int64(0), int64(-1), int32(0)]));
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const layout: LayoutSource = async () => ({ brokers: new Map([[1, { host: '127.0.0.1', port }]]), leaders: new Map([['t', [1]]]) });
  return { seen, produced, layout, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const int64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
const batch = [{ topic: 't', partition: 0, records: encodeRecordBatch([{ key: 'k', value: 'v' }]) }];

describe('ingest\'s producer logging in with SASL', () => {
  let broker: Awaited<ReturnType<typeof fakeBroker>>;
  afterEach(() => broker.close());
  const producer = (sasl: Sasl) => new WireProducer(broker.layout, { clientId: 'sasl-test', security: { sasl }, connectTimeoutMs: 5_000 });

  it.each([
    ['scram-sha-512', ['17/1', '36/1', '36/1', '0/3', '0/3']],
    ['scram-sha-256', ['17/1', '36/1', '36/1', '0/3', '0/3']],
    ['plain', ['17/1', '36/1', '0/3', '0/3']],
  ] as const)('%s: handshake and login once per connection, before the first produce', async (mechanism, requests) => {
    broker = await fakeBroker();
    const p = producer({ mechanism, username: user.name, password: user.password });
    await p.send(batch);
    await p.send(batch);
    await p.close();
    expect(broker.seen).toEqual(requests);
    expect(broker.produced).toHaveLength(2);
  });

  it.each(['scram-sha-512', 'plain'] as const)('%s with a wrong password: a non-retriable error naming KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD, nothing produced', async (mechanism) => {
    broker = await fakeBroker();
    const p = producer({ mechanism, username: user.name, password: 'wrong' });
    const err = await p.send(batch).then(() => undefined, (e: Error) => e);
    await p.close();
    expect(err).toBeInstanceOf(KafkaSecurityRejected);
    expect(err!.message).toMatch(new RegExp(`refused the SASL ${mechanism.toUpperCase()} login of user "svc": Authentication failed .*SASL_AUTHENTICATION_FAILED.*Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`));
    expect(isKafkaUnavailable(err)).toBe(false); // ingest stops with it instead of waiting
    expect(broker.produced).toEqual([]);
  });

  it('a session the broker limits (connections.max.reauth.ms) is replaced by a new login before it ends', async () => {
    broker = await fakeBroker({ sessionLifetimeMs: 2_000 });
    const p = producer({ mechanism: 'scram-sha-512', username: user.name, password: user.password });
    await p.send(batch);
    await p.send(batch); // within the session: same connection
    await new Promise((r) => setTimeout(r, 2_000));
    await p.send(batch);
    await p.close();
    expect(broker.seen).toEqual(['17/1', '36/1', '36/1', '0/3', '0/3', '17/1', '36/1', '36/1', '0/3']);
    expect(broker.connections()).toBe(2);
    expect(broker.produced).toHaveLength(3);
  });

  it('a mechanism the listener does not take: says which ones it does', async () => {
    broker = await fakeBroker({ mechanisms: ['SCRAM-SHA-512'] });
    const p = producer({ mechanism: 'plain', username: user.name, password: user.password });
    const err = await p.send(batch).then(() => undefined, (e: Error) => e);
    await p.close();
    expect(err).toBeInstanceOf(KafkaSecurityRejected);
    expect(err!.message).toMatch(/does not take SASL mechanism PLAIN \(KAFKA_SASL_MECHANISM=plain\); it takes SCRAM-SHA-512/);
  });
});
