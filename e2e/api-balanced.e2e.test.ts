import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createApiIndex, softwareFixtures, type ApiIndex } from './support/api-index';
import { startBalancer, type Balancer } from './support/haproxy';
import { freePort, startService, stopService, type RunningService } from './support/processes';
import { es, eventually } from './support/services';

const DRAIN_MS = 3_000;

/**
 * docs/reliability.md #21, the API part: HAProxy (ops/haproxy/haproxy.cfg) in front of two API
 * instances under continuous load. One instance is SIGKILLed (the balancer retries its lost
 * requests on the other), restarted, then the other is SIGTERMed (it drains: /readyz turns 503
 * while it still answers, the balancer takes it out, then it closes and exits 0). No request
 * through the balancer may fail. The p99 over the faults is printed.
 */
describe('API behind HAProxy, one instance killed and one drained under load', () => {
  const elastic = es();
  let ix: ApiIndex;
  let balancer: Balancer | undefined;
  const apis: Record<string, RunningService> = {};
  const ports: Record<string, number> = {};
  let env: Record<string, string>;
  let base: string;

  const start = async (name: string): Promise<void> => {
    apis[name] = startService('api', { ...env, API_PORT: String(ports[name]), API_URL: `http://127.0.0.1:${ports[name]}` });
    await eventually(async () => ((await fetch(`http://127.0.0.1:${ports[name]}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), `${name} ready`, 60_000);
  };
  const state = async (name: string, want: string): Promise<void> => {
    await eventually(async () => ((await balancer!.servers())[name]?.status.startsWith(want) ? true : undefined), `HAProxy sees ${name} ${want}`, 30_000);
  };

  beforeAll(async () => {
    ix = await createApiIndex(elastic, softwareFixtures());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-balanced-'));
    fs.writeFileSync(path.join(dir, 'pipeline.json'), ix.pipelineJson);
    // One cursor secret for both, as behind any balancer; no cache, so every request reaches Elasticsearch.
    env = { PIPELINE_CONFIG: path.join(dir, 'pipeline.json'), API_CURSOR_SECRET: 'balanced-secret-0123456789', API_DRAIN_DELAY_MS: String(DRAIN_MS), API_CACHE_MAX_ENTRIES: '0', LOG_LEVEL: 'warn' };
    ports.api1 = await freePort();
    ports.api2 = await freePort();
    await Promise.all([start('api1'), start('api2')]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    balancer = await startBalancer({ port, statsPort: await freePort(), servers: [{ name: 'api1', port: ports.api1! }, { name: 'api2', port: ports.api2! }] });
    await state('api1', 'UP');
    await state('api2', 'UP');
  });

  afterAll(async () => {
    await balancer?.stop();
    for (const s of Object.values(apis)) await stopService(s);
    await ix.drop();
  });

  it('loses no request', async () => {
    let stopLoad = false;
    let load: autocannon.Instance | undefined;
    const loadDone = new Promise<autocannon.Result>((resolve, reject) => {
      load = autocannon({ url: `${base}${ix.path('search')}?q=street+fighter&size=3`, connections: 8, duration: 600, timeout: 30 }, (err, result) => (err ? reject(err) : resolve(result)));
    });
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    try {
      await pause(2_000);
      // Killed: its in-flight requests and the ones sent before the checks mark it down are retried.
      await stopService(apis.api1!, 'SIGKILL');
      await state('api1', 'DOWN');
      await pause(1_000);
      await start('api1');
      await state('api1', 'UP');

      // Drained: /readyz answers 503 while requests are still served, so the balancer takes it out first.
      const stopping = stopService(apis.api2!, 'SIGTERM');
      const drained = await eventually(async () => {
        const r = await fetch(`http://127.0.0.1:${ports.api2}/readyz`).catch(() => undefined);
        return r?.status === 503 ? r : undefined;
      }, 'api2 /readyz 503 while draining', 10_000);
      expect(((await drained.json()) as { error: { details: { failed: string[] } } }).error.details.failed).toContain('draining');
      await state('api2', 'DOWN');
      expect(await stopping).toBe(0);
      await start('api2');
      await state('api2', 'UP');
      await pause(2_000);
    } finally {
      stopLoad = true;
      load!.stop();
    }
    const result = await loadDone;
    const servers = await balancer!.servers();
    const retried = Object.values(servers).reduce((n, s) => n + s.retries + s.redispatches, 0);
    process.stdout.write(`api-balanced: ${result.requests.total} requests, ${result['2xx']} 2xx, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms max ${result.latency.max} ms over the faults; retried or redispatched by HAProxy ${retried}\n`);
    expect(stopLoad).toBe(true);
    expect(result['2xx']).toBeGreaterThan(50);
    expect({ non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts }).toEqual({ non2xx: 0, errors: 0, timeouts: 0 });
  }, 300_000);
});
