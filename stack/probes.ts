import * as http from 'node:http';
import * as net from 'node:net';
import { HOST } from './ports';

/** GET returning status and body; resolves undefined on any network error (not up yet). */
export function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Sends `request` on a fresh connection and resolves with what came back once `done` says so. */
export function tcpExchange(
  port: number,
  request: Buffer,
  done: (received: Buffer) => boolean,
  timeoutMs = 2000,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: HOST, port });
    const finish = (value: Buffer | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.on('error', () => finish(undefined));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (done(received)) finish(received);
    });
    socket.on('end', () => finish(undefined));
  });
}

export async function redisPing(port: number): Promise<boolean> {
  const reply = await tcpExchange(port, Buffer.from('PING\r\n'), (b) => b.includes('\r\n'));
  return reply?.toString().startsWith('+PONG') ?? false;
}
