import request from 'supertest';
import { loadApiConfig } from '../../config';
import { createLogger } from '../../core/logger';
import { createApp } from '../app';
import { createApiMetrics } from '../metrics';
import { FakeBackend, testPipeline } from '../testing/fake-backend';

type Line = Record<string, unknown>;

function app(opts: { accessLog?: boolean; backend?: FakeBackend } = {}) {
  const lines: Line[] = [];
  const log = createLogger('api', 'info', (l) => lines.push(JSON.parse(l) as Line));
  const backend = opts.backend ?? new FakeBackend();
  const http = request(createApp({ pipeline: testPipeline, search: backend, metrics: createApiMetrics(), log, cursorSecret: 'x'.repeat(32), accessLog: opts.accessLog }).callback());
  return { http, lines };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps a sane X-Request-Id and answers it', async () => {
    const res = await app().http.get('/healthz').set('X-Request-Id', 'lb-7f3a:01HZX.2');
    expect(res.headers['x-request-id']).toBe('lb-7f3a:01HZX.2');
  });

  it.each([['none', undefined], ['empty', ''], ['too long', 'a'.repeat(129)], ['spaces', 'a b'], ['quotes', 'a"b'], ['a newline escape', 'a%0Ab']])('generates a UUID when the given one is %s', async (_what, given) => {
    const req = app().http.get('/healthz');
    if (given !== undefined) req.set('X-Request-Id', given);
    const res = await req;
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('gives every request its own, errors included, and logs a 500 with it', async () => {
    const backend = new FakeBackend();
    backend.search = async () => {
      throw new Error('boom');
    };
    const { http, lines } = app({ backend });
    const [a, b] = await Promise.all([http.get('/v1/indexes/books/search?q=x'), http.get('/nope')]);
    expect([a.status, b.status]).toEqual([500, 404]);
    expect(a.headers['x-request-id']).toMatch(UUID);
    expect(b.headers['x-request-id']).toMatch(UUID);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    const failed = lines.find((l) => l.msg === 'request failed');
    expect(failed).toMatchObject({ level: 'error', requestId: a.headers['x-request-id'], path: '/v1/indexes/books/search' });
  });
});

describe('access log', () => {
  it('is off by default: a request writes no line', async () => {
    const { http, lines } = app();
    await http.get('/v1/indexes/books/search?q=dune');
    expect(lines).toEqual([]);
  });

  it('writes one line per request with id, route, final status and time, without the query string', async () => {
    const { http, lines } = app({ accessLog: true });
    const ok = await http.get('/v1/indexes/books/search?q=secret+words').set('X-Request-Id', 'abc-1');
    await http.get('/v1/indexes/nope/search');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', ns: 'api:access', msg: 'request', requestId: 'abc-1', method: 'GET', path: '/v1/indexes/books/search', route: '/v1/indexes/:index/search', status: ok.status, keyId: 'anonymous' });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(lines[0]!.bytes).toBeGreaterThan(0);
    expect(JSON.stringify(lines[0])).not.toContain('secret');
    expect(lines[1]).toMatchObject({ status: 404, requestId: expect.stringMatching(UUID) });
  });

  it('is turned on by API_ACCESS_LOG=1 and refuses other values', () => {
    const env = { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' };
    expect(loadApiConfig(env).accessLog).toBe(false);
    expect(loadApiConfig({ ...env, API_ACCESS_LOG: '1' }).accessLog).toBe(true);
    expect(() => loadApiConfig({ ...env, API_ACCESS_LOG: 'yes' })).toThrow(/API_ACCESS_LOG="yes" is not an integer/);
  });
});
