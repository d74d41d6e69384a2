import http from 'node:http';
import net from 'node:net';
import { answerClientErrors } from './client-error';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { silentLogger } from '../../core/logger';
import { FakeBackend, testPipeline } from '../testing/fake-backend';

/**
 * What Node's HTTP parser refuses before Koa sees it, over a real socket (supertest cannot
 * send an oversized header block): still the API's JSON error shape.
 */
describe('requests Node refuses before the app', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    const app = createApp({ pipeline: testPipeline, search: new FakeBackend(), metrics: createApiMetrics(), log: silentLogger });
    server = http.createServer(app.callback());
    answerClientErrors(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const raw = (text: string) =>
    new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.end(text));
      let out = '';
      sock.on('data', (d: Buffer) => (out += d.toString()));
      sock.on('error', reject);
      sock.on('close', () => {
        const [head = '', body = ''] = out.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), headers: head, body });
      });
    });

  it('answers an oversized URL with 431 and the JSON error shape', async () => {
    const res = await raw(`GET /v1/indexes/books/search?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(res.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(res.body).error).toEqual({ code: 'HEADERS_TOO_LARGE', message: expect.stringMatching(/POST/) });
  });

  it('answers an oversized header with 431 and the JSON error shape', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([431, 'HEADERS_TOO_LARGE']);
  });

  it('answers a malformed request with 400 and the JSON error shape', async () => {
    const res = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([400, 'REQUEST_MALFORMED']);
  });

  it('still serves normal requests', async () => {
    expect((await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(200);
  });
});
