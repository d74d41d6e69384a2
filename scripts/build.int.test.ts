import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../e2e/support/processes';
import { eventually, uniqueName } from '../e2e/support/services';

const ROOT = path.join(__dirname, '..');

/**
 * The production build (scripts/build.sh, what the Dockerfile runs): the compiled services and
 * CLIs run with plain node, without tsx, against the real services.
 */
describe('npm run build', () => {
  // Laid out as in the image: <app>/dist beside <app>/node_modules.
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'build-'));
  const out = path.join(app, 'dist');

  beforeAll(() => {
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
    execFileSync('bash', [path.join(ROOT, 'scripts', 'build.sh')], { cwd: ROOT, env: { ...process.env, BUILD_OUT_DIR: out }, stdio: 'pipe' });
  }, 300_000);

  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));

  it('emits JavaScript for every service and CLI, and no TypeScript', () => {
    const all = files(out).map((f) => path.relative(out, f));
    expect(all).toEqual(expect.arrayContaining(['ingest/main.js', 'indexer/main.js', 'api/main.js', 'scripts/reindex.js', 'scripts/api-keys.js', 'config/pipelines/demo.json', 'package.json', 'api/ui/client/search.js', 'api/ui/client/search.css']));
    expect(all.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(all.filter((f) => /\.test\.js$/.test(f))).toEqual([]);
  });

  it('serves the API from the compiled code', async () => {
    const port = await freePort();
    const api = spawn(process.execPath, [path.join(out, 'api', 'main.js')], { env: { ...process.env, API_PORT: String(port), API_HOST: '127.0.0.1', API_DRAIN_DELAY_MS: '0', LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    api.stdout.on('data', (d) => (output += d));
    api.stderr.on('data', (d) => (output += d));
    try {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), `compiled api ready (${output})`, 60_000);
      const spec = (await (await fetch(`http://127.0.0.1:${port}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(spec.paths)).toContain('/v1/indexes/{index}/search');
      // The default pipeline config was found beside the compiled config module: its indexes are described.
      expect(JSON.stringify(spec)).toMatch(/titles: /);
      // The search page's script was bundled by the build (no TypeScript to bundle in dist/).
      const script = await fetch(`http://127.0.0.1:${port}/ui/search.js`);
      expect([script.status, (await script.text()).length > 10_000]).toEqual([200, true]);
    } finally {
      const exited = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
  });

  it('runs the CLIs from the compiled code', () => {
    const prefix = `${uniqueName('build')}:`;
    const created = execFileSync(process.execPath, [path.join(out, 'scripts', 'api-keys.js'), 'create', '--tenant', 'acme', '--scopes', 'search'], { env: { ...process.env, API_REDIS_PREFIX: prefix }, encoding: 'utf8' });
    expect(created.trim()).toMatch(/^spk_\w+_[\w-]+$/); // the key alone on stdout
    const listed = execFileSync(process.execPath, [path.join(out, 'scripts', 'api-keys.js'), 'list', '--json'], { env: { ...process.env, API_REDIS_PREFIX: prefix }, encoding: 'utf8' });
    expect((JSON.parse(listed) as Array<{ tenant: string }>).map((k) => k.tenant)).toEqual(['acme']);
  });
});
