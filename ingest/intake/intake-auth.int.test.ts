import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { loadIngestConfig } from '../../config';
import { loadIntakeAuthConfig } from '../../config/intake-auth';
import { parsePipelineConfig } from '../../config/pipeline';
import { generateApiKey } from '../../core/api-keys/api-key';
import { RedisApiKeyStore } from '../../core/api-keys/key-store';
import { createKafka } from '../../core/kafka';
import { silentLogger } from '../../core/logger';
import { kafka, readTopic, uniqueName } from '../../e2e/support/services';
import { startIntakeServer, type IntakeServer } from './intake-server';

/**
 * The intake as ingest/main.ts starts it with API_AUTH=keys, over real Redis (keys made by the
 * API's key store) and real Kafka: who may write, and for which tenant, is what the topic holds.
 */
describe('event intake API keys against Redis', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  const redisPrefix = `${uniqueName('intakeauth')}:`;
  const store = new RedisApiKeyStore(redis, redisPrefix);
  const table = uniqueName('tenanted');
  const prefix = uniqueName('intakeauth');
  const topic = `${prefix}.public.${table}`;
  let server: IntakeServer;

  beforeAll(async () => {
    const port = await freePort();
    const env = { ...process.env, TOPIC_PREFIX: prefix, INGEST_HTTP_PORT: String(port), INGEST_HTTP_TABLES: `public.${table}`, API_AUTH: 'keys', API_REDIS_PREFIX: redisPrefix, API_KEY_CACHE_MS: '0' };
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
      [table.replace(/_/g, '-')]: { table: `public.${table}`, tenantField: 'tenant', fields: { title: { type: 'text', searchable: true }, tenant: { type: 'keyword', column: 'org' } } },
    } }));
    const config = loadIngestConfig(env);
    server = (await startIntakeServer({ config, auth: loadIntakeAuthConfig(env), pipeline, kafka: createKafka(config.kafkaBrokers, 'intake-auth-test', silentLogger), registry: new Registry(), log: silentLogger }))!;
  });

  afterAll(async () => {
    await server?.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const event = (org: string, id: string, after: Record<string, unknown> = { id, title: `row ${id}` }, lsn = 10) => ({ v: 1, op: 'u', source: { schema: 'public', table }, key: { org, id }, after, lsn: String(lsn), commitLsn: String(lsn), txId: lsn, ts: '2026-11-23T09:00:00.000Z' });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it('needs a key with the ingest scope, writes only the key tenant\'s documents, and stops a revoked key', async () => {
    const missing = await post(event('a', '1'));
    expect([missing.status, missing.body.error.code, missing.headers.get('www-authenticate')]).toEqual([401, 'API_KEY_MISSING', 'Bearer realm="search-pipeline"']);
    expect((await post(event('a', '1'), bearer(generateApiKey().key))).body).toEqual({ error: { code: 'API_KEY_INVALID', message: expect.any(String) } });
    const searchOnly = (await store.create({ tenant: 'a', scopes: ['search'] })).key;
    const forbidden = await post(event('a', '1'), { 'x-api-key': searchOnly });
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, 'SCOPE_MISSING']);

    const a = await store.create({ tenant: 'a', scopes: ['ingest'] });
    expect((await post(event('a', '1'), bearer(a.key))).status).toBe(200);
    const other = await post(event('b', '2', { id: '2', org: 'b' }, 11), bearer(a.key));
    expect(other.status).toBe(400);
    expect(other.body.error.details.lines.map((l: { reason: string }) => l.reason)).toEqual(['TENANT_FORBIDDEN']);
    const truncate = await post({ ...event('a', '1'), op: 't', key: {}, after: undefined }, bearer(a.key));
    expect(truncate.body.error.details.lines.map((l: { reason: string }) => l.reason)).toEqual(['TENANT_FORBIDDEN']);
    const b = await store.create({ tenant: 'b', scopes: ['admin'] });
    expect((await post(event('b', '2', { id: '2', org: 'b' }, 12), bearer(b.key))).status).toBe(200);

    await store.revoke(a.record.id);
    expect((await post(event('a', '3'), bearer(a.key))).body.error.code).toBe('API_KEY_REVOKED');

    const admin = kafka().admin();
    await admin.connect();
    const total = (await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())).reduce((n, p) => n + Number(p.high), 0);
    expect(total).toBe(2);
    const written = (await readTopic(kafka(), topic, 2)).map((m) => JSON.parse(m.value) as { key: unknown; after: unknown });
    expect(written.map((e) => [e.key, e.after]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      [{ org: 'a', id: '1' }, { id: '1', title: 'row 1', org: 'a' }],
      [{ org: 'b', id: '2' }, { id: '2', org: 'b' }],
    ]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
