import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisApiKeyStore } from '../core/api-keys/key-store';
import { createApiIndex, softwareFixtures, type ApiIndex } from './support/api-index';
import { freePort, startService, stopService, type RunningService } from './support/processes';
import { schemathesis } from './support/schemathesis';
import { env, es, eventually, uniqueName } from './support/services';

// The first run creates schemathesis' virtualenv from PyPI.
jest.setTimeout(600_000);

/**
 * schemathesis generates requests from /openapi.json against the API running as its own
 * process over real Elasticsearch: no 5xx, and every answer matches the documented status
 * codes, content types and schemas; requests that break the schema must be refused.
 *
 * Left out: positive_data_acceptance ("every schema-valid request gets a 2xx"). The q and
 * filter grammars and the page × size ≤ 10,000 rule cannot be written in OpenAPI, so
 * schema-valid requests such as q=a:b or page=9999 rightly get a 400.
 */
describe('API fuzzed by schemathesis', () => {
  const elastic = es();
  let ix: ApiIndex;
  let api: RunningService;
  let base: string;
  // API keys on, as in production: schemathesis sends a key with every request, and its
  // ignored_auth check sends none (or a wrong one) to see the 401. Browser keys on too, so
  // POST /v1/browser-keys is fuzzed past its "disabled" 404.
  const redis = new Redis(env('REDIS_URL'));
  const redisPrefix = `${uniqueName('fuzz')}:`;
  let key: string;

  beforeAll(async () => {
    const [st] = await Promise.all([schemathesis(), (async () => (ix = await createApiIndex(elastic, softwareFixtures())))()]);
    expect(fs.existsSync(st)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-fuzz-'));
    fs.writeFileSync(path.join(dir, 'pipeline.json'), ix.pipelineJson);
    key = (await new RedisApiKeyStore(redis, redisPrefix).create({ tenant: 'fuzz', scopes: ['search', 'analytics'] })).key;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startService('api', { PIPELINE_CONFIG: path.join(dir, 'pipeline.json'), API_PORT: String(port), API_URL: base, API_CURSOR_SECRET: 'fuzz-secret-0123456789', LOG_LEVEL: 'error', API_AUTH: 'keys', API_REDIS_PREFIX: redisPrefix, API_RATE_LIMIT_PER_SEC: '100000', API_RATE_LIMIT_BURST: '100000', API_BROWSER_KEY_SECRET: 'fuzz-browser-key-secret-0123456789abcdef' });
    await eventually(async () => ((await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'api ready');
  });

  afterAll(async () => {
    if (api) {
      const code = await stopService(api);
      if (code !== 0) process.stderr.write(`api exited ${code}:\n${api.output().slice(-3000)}\n`);
    }
    await ix?.drop();
    await elastic.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('finds no server error and no schema violation', async () => {
    const st = await schemathesis();
    expect((await fetch(`${base}/v1/indexes/${ix.spec.name}/search`)).status).toBe(401);
    expect((await fetch(`${base}/v1/indexes/${ix.spec.name}/search`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(200);
    // One worker: with several, hypothesis can fail inside its own lambda-source parsing.
    // CI replays one fixed seed so a run is reproducible and a red build means a regression; runs
    // elsewhere explore fresh seeds (SCHEMATHESIS_SEED replays one; the report prints the seed).
    const seed = process.env.SCHEMATHESIS_SEED ?? (process.env.CI ? '24901975220686416312376614376336592972' : undefined);
    const args = ['run', `${base}/openapi.json`, ...(seed ? ['--seed', seed] : []), '--checks', 'all', '--exclude-checks', 'positive_data_acceptance', '--phases', 'examples,coverage,fuzzing', '--max-examples', '50', '--workers', '1', '--request-timeout', '10', '--no-color', '--header', `Authorization: Bearer ${key}`,
      // /metrics takes its own token, not an API key (api/auth tests cover it): fuzzed with the key it only ever answers 401.
      '--exclude-path', '/metrics',
      // The synonyms routes need the admin scope this key lacks: fuzzed with it they only ever answer 403 (api/synonyms tests cover them).
      '--exclude-path', '/v1/indexes/{index}/synonyms'];
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(st, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }));
    });
    if (result.code !== 0) process.stderr.write(result.output.slice(-20_000));
    expect(result.output).toMatch(/No issues found/);
    expect(result.code).toBe(0);
  });
});
