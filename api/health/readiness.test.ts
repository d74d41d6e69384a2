import net from 'node:net';
import request from 'supertest';
import { silentLogger } from '../../core/logger';
import { createApp } from '../app';
import { createAuthRedis } from '../auth/auth-redis';
import { createApiMetrics } from '../metrics';
import { FakeBackend, testPipeline } from '../testing/fake-backend';
import { redisReadiness, type ReadinessCheck } from './readiness';

const appWith = (readiness: ReadinessCheck[], backend = new FakeBackend()) =>
  request(createApp({ pipeline: testPipeline, search: backend, metrics: createApiMetrics(), log: silentLogger, readiness }).callback());

/** A port nothing listens on: connections are refused, as with a stopped Redis. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('/readyz', () => {
  it('is 200 while every check passes', async () => {
    const res = await appWith([{ name: 'redis', failure: 'Redis down', ready: async () => true }]).get('/readyz');
    expect([res.status, res.body]).toEqual([200, { status: 'ready' }]);
  });

  it('is 503 with Retry-After naming what cannot serve', async () => {
    const backend = new FakeBackend();
    backend.ready = async () => false;
    const res = await appWith([{ name: 'redis', failure: 'Redis down', ready: async () => false }], backend).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.error).toEqual({ code: 'NOT_READY', message: 'not ready: Elasticsearch is not answering; Redis down', details: { failed: ['elasticsearch', 'redis'] } });
  });

  it('counts a check that never answers as failed, within its bound', async () => {
    const start = Date.now();
    const res = await appWith([{ name: 'redis', failure: 'Redis down', ready: () => new Promise<boolean>(() => undefined) }]).get('/readyz');
    expect(res.status).toBe(503);
    expect(Date.now() - start).toBeLessThan(4_000);
  });

  it('is 503 while the API keys\' Redis is unreachable', async () => {
    const redis = createAuthRedis(`redis://127.0.0.1:${await closedPort()}`, silentLogger, 300);
    try {
      const res = await appWith([redisReadiness(redis, 'Redis (API keys) is not answering')]).get('/readyz');
      expect([res.status, res.body.error.details]).toEqual([503, { failed: ['redis'] }]);
    } finally {
      redis.disconnect();
    }
  });
});
