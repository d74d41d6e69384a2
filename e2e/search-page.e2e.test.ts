import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { parsePipelineConfig, type IndexSpec } from '../config/pipeline';
import { RedisApiKeyStore } from '../core/api-keys/key-store';
import { concreteIndexName, ensureIndex } from '../indexer/mappings';
import { softwareFixtures } from './support/api-index';
import { chromiumPath } from './support/chromium';
import { freePort, startService, stopService, waitForOutput, type RunningService } from './support/processes';
import { env, es, eventually, uniqueName } from './support/services';

jest.setTimeout(600_000);

/**
 * The browser path end to end: the real API process (API_AUTH=keys, keys in the real Redis, a
 * real Elasticsearch index), browser keys minted by its endpoint and by the CLI, and the search
 * page driven in Debian's headless Chromium through puppeteer-core: type, pick a suggestion,
 * refine, sort, page, and a hostile document that must render as text. Also CORS as a browser
 * enforces it, from a page on an allowed origin and on another.
 */
const ROOT = path.join(__dirname, '..');
const HOSTILE = '<img src=x onerror=alert(1)> gizmo';
const SECRET = 'e2e-browser-key-secret-0123456789abcdef';
const SCREENSHOT = process.env.SEARCH_PAGE_SCREENSHOT ?? path.join(os.tmpdir(), 'search-page.png');

type Doc = Record<string, unknown> & { id: string; tenant: string; supported: string; system: string; title: string };

function fixtures(): Doc[] {
  const acme = softwareFixtures().map((d) => ({ ...d, tenant: 'acme' }) as Doc);
  const hostile: Doc = { id: 'evil', tenant: 'acme', title: HOSTILE, name: 'gizmo', system: 'nes', publisher: 'Mallory <b>Inc</b>', supported: 'yes', year: 1990, release_date: '1990-01-01', rom_bytes: 1 };
  const globex = ['Globex secret plans', 'Globex secret zelda', 'Globex secret mario'].map((title, i) => ({ id: `gx${i}`, tenant: 'globex', title, name: `globex${i}`, system: 'nes', publisher: 'Globex', supported: 'yes', year: 1990 + i, release_date: '1990-01-01', rom_bytes: 1 }) as Doc);
  return [...acme, hostile, ...globex];
}

function cli(args: string[], extraEnv: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'api-keys.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...extraEnv } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the browser path against the real API', () => {
  const elastic = es();
  const redis = new Redis(env('REDIS_URL'));
  const prefix = `${uniqueName('browser')}:`;
  const name = uniqueName('api_browser');
  const docs = fixtures();
  const visible = docs.filter((d) => d.tenant === 'acme' && d.supported !== 'no');
  const pipelineFile = path.join(os.tmpdir(), `${name}.pipeline.json`);
  let spec: IndexSpec;
  let api: RunningService;
  let base: string;
  let otherOrigin: http.Server;
  let otherPort: number;
  let parent: { id: string; key: string };
  let browser: Browser;
  const cliEnv = () => ({ API_REDIS_PREFIX: prefix, API_BROWSER_KEY_SECRET: SECRET, PIPELINE_CONFIG: pipelineFile, REDIS_URL: env('REDIS_URL') });

  const call = (route: string, key: string, init: RequestInit = {}) => fetch(`${base}${route}`, { ...init, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) } });
  const search = async (key: string, query: Record<string, string>) => {
    const res = await call(`/v1/indexes/${name}/search?${new URLSearchParams(query).toString()}`, key);
    return { status: res.status, body: (await res.json()) as any };
  };
  const mint = async (body: Record<string, unknown>, key = parent.key) => {
    const res = await call('/v1/browser-keys', key, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'pipelines', 'demo.json'), 'utf8')) as { indexes: { software: { table: string; fields: Record<string, unknown> } } };
    const software = demo.indexes.software;
    const pipelineJson = JSON.stringify({
      version: 1,
      indexes: {
        [name]: { ...software, tenantField: 'tenant', fields: { ...software.fields, tenant: { type: 'keyword', filterable: true } } },
        // Never created in Elasticsearch: a browser key for the first index must not reach it.
        [`${name}_other`]: { table: 'other', fields: { title: { type: 'text', searchable: true } } },
      },
    });
    fs.writeFileSync(pipelineFile, pipelineJson);
    spec = parsePipelineConfig(pipelineJson).indexes[0] as IndexSpec;
    await ensureIndex(elastic, spec);
    const res = await elastic.bulk({ refresh: true, operations: docs.flatMap(({ id, ...doc }) => [{ index: { _index: name, _id: id } }, doc]) });
    if (res.errors) throw new Error(`fixture bulk failed: ${JSON.stringify(res.items.find((i) => i.index?.error))}`);
    const created = await new RedisApiKeyStore(redis, prefix).create({ tenant: 'acme', scopes: ['search'], name: 'browser e2e' });
    parent = { id: created.record.id, key: created.key };

    // A second origin: the same machine as 127.0.0.1 (allowed) and as localhost (another origin).
    otherPort = await freePort();
    otherOrigin = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>shop</title><p>shop</p>'));
    await new Promise<void>((r) => otherOrigin.listen(otherPort, '127.0.0.1', r));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startService('api', {
      ELASTICSEARCH_URL: env('ELASTICSEARCH_URL'),
      REDIS_URL: env('REDIS_URL'),
      PIPELINE_CONFIG: pipelineFile,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      API_AUTH: 'keys',
      API_REDIS_PREFIX: prefix,
      API_KEY_CACHE_MS: '300',
      API_RATE_LIMIT_PER_SEC: '0',
      API_BROWSER_KEY_SECRET: SECRET,
      API_BROWSER_KEY_MAX_TTL_S: '3600',
      API_CORS_ORIGINS: `http://127.0.0.1:${otherPort}`,
      API_SEARCH_PAGE: '1',
      LOG_LEVEL: 'info',
    });
    await waitForOutput(api, 'api listening');
    browser = await puppeteer.launch({ executablePath: await chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (api) await stopService(api);
    await new Promise<void>((r) => (otherOrigin ? otherOrigin.close(() => r()) : r()));
    await elastic.indices.delete({ index: concreteIndexName(spec) }, { ignore: [404] }).catch(() => undefined);
    const left = await redis.keys(`${prefix}*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
    await elastic.close();
    fs.rmSync(pipelineFile, { force: true });
  });

  it('mints browser keys (endpoint and CLI) whose tenant, indexes and filter every query obeys', async () => {
    const minted = await mint({ indexes: name, filter: '-supported:no', expiresInS: 600 });
    expect(minted.status).toBe(201);
    const key = minted.body.key as string;
    const all = await search(key, { size: '100', facets: 'supported,system' });
    expect(all.status).toBe(200);
    expect(all.body.hits.map((h: any) => h.id).sort()).toEqual(visible.map((d) => d.id).sort());
    // The caller's own filter narrows, never widens: asking for the hidden rows finds none, and a
    // facet on the filtered field does not list them either.
    expect((await search(key, { filter: 'supported:no' })).body.total).toBe(0);
    expect(all.body.facets.supported.map((b: any) => b.value).sort()).toEqual(['partial', 'yes']);
    expect((await search(key, { filter: 'supported:yes,no', facets: 'supported' })).body.facets.supported.map((b: any) => b.value).sort()).toEqual(['partial', 'yes']);
    // Another tenant's rows stay out, whatever is asked.
    expect((await search(key, { q: 'globex secret' })).body.total).toBe(0);
    expect((await search(key, { filter: 'tenant:globex' })).body.total).toBe(0);
    const other = await call(`/v1/indexes/${name}_other/search`, key);
    expect([other.status, ((await other.json()) as any).error.code]).toEqual([403, 'INDEX_NOT_ALLOWED']);
    // The CLI mints keys the API accepts, with the same checks.
    const made = await cli(['browser-key', '--parent', parent.id, '--indexes', name, '--filter', 'system:snes', '--ttl', '120', '--json'], cliEnv());
    expect(made.stderr).toBe('');
    const fromCli = JSON.parse(made.stdout);
    expect(fromCli).toMatchObject({ tenant: 'acme', indexes: [name], filter: 'system:snes', scopes: ['search'] });
    const snes = await search(fromCli.key, { size: '100' });
    expect(snes.body.total).toBe(docs.filter((d) => d.tenant === 'acme' && d.system === 'snes').length);
    const refused = await cli(['browser-key', '--parent', parent.id, '--indexes', name, '--filter', 'nope:1'], cliEnv());
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/FILTER_FIELD_NOT_ALLOWED/)]);
  });

  it('stops a browser key when it expires and when its parent is revoked', async () => {
    const short = (await mint({ indexes: name, expiresInS: 1 })).body.key as string;
    const expired = await eventually(async () => {
      const r = await search(short, {});
      return r.status === 401 ? r : undefined;
    }, 'the 1 s browser key to expire', 15_000);
    expect(expired.body.error.code).toBe('API_KEY_EXPIRED');
    const other = await new RedisApiKeyStore(redis, prefix).create({ tenant: 'acme', scopes: ['search'] });
    const child = (await mint({ indexes: name }, other.key)).body.key as string;
    expect((await search(child, {})).status).toBe(200);
    expect((await cli(['revoke', other.record.id], cliEnv())).code).toBe(0);
    const revoked = await eventually(async () => {
      const r = await search(child, {});
      return r.status === 401 ? r : undefined;
    }, 'the revoked parent\'s browser key to be refused', 15_000);
    expect(revoked.body.error.code).toBe('API_KEY_REVOKED');
  });

  it('lets a page on an allowed origin read answers, and a page on another origin not', async () => {
    const key = (await mint({ indexes: name })).body.key as string;
    const page = await browser.newPage();
    try {
      const read = (origin: string) =>
        page.goto(`${origin}/`).then(() =>
          page.evaluate(async (url: string, k: string) => {
            try {
              const res = await fetch(url, { headers: { Authorization: `Bearer ${k}` } });
              return `${res.status} ${((await res.json()) as { total: number }).total}`;
            } catch (err) {
              return `blocked: ${(err as Error).name}`;
            }
          }, `${base}/v1/indexes/${name}/search?q=zelda`, key),
        );
      expect(await read(`http://127.0.0.1:${otherPort}`)).toMatch(/^200 \d+$/);
      expect(await read(`http://localhost:${otherPort}`)).toBe('blocked: TypeError');
    } finally {
      await page.close();
    }
  });

  describe('the search page in headless Chromium', () => {
    let page: Page;
    const problems: string[] = [];
    const foreign: string[] = [];
    let dialogs = 0;

    const hitTitles = () => page.$$eval('.ais-Hits-item .hit-title', (els) => els.map((e) => e.textContent ?? ''));
    const detail = (field: string) => page.$$eval('.ais-Hits-item', (els, f) => els.map((e) => [...e.querySelectorAll('.hit-details div')].find((d) => d.querySelector('dt')?.textContent === f)?.querySelector('dd')?.textContent ?? ''), field);
    const statsText = () => page.$eval('#stats', (e) => e.textContent ?? '');
    /** Waits until the hits shown satisfy `ok` (InstantSearch renders asynchronously after each change). */
    const until = async (what: string, ok: (titles: string[]) => boolean) => {
      await eventually(async () => (ok(await hitTitles()) ? true : undefined), what, 20_000);
    };
    /**
     * Waits until no request is in flight for a while (past the suggestions' debounce): the answer
     * to the last action is then rendered, not one to an earlier keystroke.
     */
    const settle = () => page.waitForNetworkIdle({ idleTime: 400, timeout: 30_000 });
    const typeQuery = async (text: string) => {
      await page.click('#searchbox input', { clickCount: 3 });
      await page.keyboard.press('Backspace');
      if (text) await page.type('#searchbox input', text, { delay: 40 });
      await settle();
    };

    beforeAll(async () => {
      const key = (await mint({ indexes: name, filter: '-supported:no', expiresInS: 900 })).body.key as string;
      page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('dialog', (d) => {
        dialogs++;
        void d.dismiss();
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(`${base}/ui#key=${key}`, { waitUntil: 'networkidle0' });
    });

    afterAll(async () => {
      await page?.close();
    });

    it('shows the key\'s documents, takes the key out of the address bar, and loads nothing from elsewhere', async () => {
      await until('the first page of hits', (t) => t.length === 10);
      expect(await statsText()).toMatch(new RegExp(`${visible.length} results`));
      expect(page.url()).toBe(`${base}/ui`);
      expect(foreign).toEqual([]);
    });

    it('suggests as you type, searches as you type, and marks the matches', async () => {
      await typeQuery('zel');
      await page.waitForSelector('#suggestions li', { visible: true });
      const suggestions = await page.$$eval('#suggestions li', (els) => els.map((e) => e.textContent ?? ''));
      expect(suggestions.length).toBeGreaterThan(0);
      for (const s of suggestions) expect(s).toMatch(/\bzel/i);
      expect(suggestions.join()).not.toMatch(/Globex/);
      // Pick one with the keyboard: the search runs for it.
      await page.keyboard.press('ArrowDown');
      const picked = await page.$eval('#suggestions li[aria-selected=true]', (e) => e.textContent ?? '');
      await page.keyboard.press('Enter');
      await settle();
      await until(`hits for the suggestion ${picked}`, (t) => t.length > 0 && t.includes(picked));
      expect(await page.$eval('#searchbox input', (e) => (e as unknown as { value: string }).value)).toBe(picked);
      await typeQuery('zelda');
      await until('hits for zelda', (t) => t.length === 3 && t.every((x) => /zelda/i.test(x)));
      const marked = await page.$$eval('.ais-Hits-item .hit-title mark', (els) => els.map((e) => e.textContent));
      expect(marked.length).toBeGreaterThanOrEqual(3);
      for (const m of marked) expect(m).toMatch(/^zelda$/i);
    });

    it('refines with a disjunctive refinement list, sorts, and pages', async () => {
      await typeQuery('');
      await until('every document again', (t) => t.length === 10);
      const systemFacet = 'section[data-facet="system"] .ais-RefinementList-item';
      await page.waitForSelector(systemFacet);
      const clickValue = async (value: string) => {
        const items = await page.$$(systemFacet);
        for (const item of items) {
          if ((await item.$eval('.ais-RefinementList-labelText', (e) => e.textContent)) === value) return (await item.$('input'))!.click();
        }
        throw new Error(`no refinement value ${value}`);
      };
      await clickValue('snes');
      await settle();
      const snes = visible.filter((d) => d.system === 'snes');
      await eventually(async () => ((await statsText()).includes(`${snes.length} results`) ? true : undefined), 'the snes refinement', 20_000);
      expect(new Set(await detail('system'))).toEqual(new Set(['snes']));
      // Disjunctive: the other systems are still listed with the counts they would add.
      const listed = await page.$$eval(`${systemFacet} .ais-RefinementList-labelText`, (els) => els.map((e) => e.textContent));
      expect(listed).toEqual(expect.arrayContaining(['nes', 'snes', 'megadriv']));
      await clickValue('megadriv');
      await settle();
      const both = visible.filter((d) => d.system === 'snes' || d.system === 'megadriv');
      await eventually(async () => ((await statsText()).includes(`${both.length} results`) ? true : undefined), 'snes or megadriv', 20_000);
      expect(new Set(await detail('system'))).toEqual(new Set(['snes', 'megadriv']));

      await page.select('#sort select', `${name}~-year`);
      await settle();
      const newest = [...both].sort((a, b) => (b.year as number) - (a.year as number))[0]!;
      await until('newest first', (t) => t[0] === newest.title);
      const years = (await detail('year')).map(Number);
      expect(years).toEqual([...years].sort((a, b) => b - a));

      await page.click('.ais-ClearRefinements-button');
      await page.select('#sort select', name);
      await settle();
      await until('every document, by relevance', (t) => t.length === 10);
      const first = await hitTitles();
      await page.click('.ais-Pagination-item--page:not(.ais-Pagination-item--selected) a');
      await settle();
      await until('page 2', (t) => t.length > 0 && t.every((x) => !first.includes(x)));
      expect(await page.$eval('.ais-Pagination-item--selected', (e) => e.textContent?.trim())).toBe('2');
    });

    it('shows a hostile document\'s title and fields as text, never as markup', async () => {
      await typeQuery('gizmo');
      await until('the hostile document', (t) => t.length === 1);
      expect(await hitTitles()).toEqual([HOSTILE]);
      expect(await page.$eval('.ais-Hits-item .hit-title mark', (e) => e.textContent)).toBe('gizmo');
      expect(await detail('publisher')).toEqual(['Mallory <b>Inc</b>']);
      expect(await page.$$eval('#hits img, #hits b', (els) => els.length)).toBe(0);
      expect(dialogs).toBe(0);
      await typeQuery('globex');
      await page.waitForSelector('#hits .empty');
    });

    it('leaves a screenshot and logs no errors', async () => {
      await typeQuery('super');
      await until('hits for super', (t) => t.length > 0);
      await page.click('section[data-facet="system"] .ais-RefinementList-item input');
      await settle();
      await page.screenshot({ path: SCREENSHOT });
      expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
      expect(problems).toEqual([]);
      expect(dialogs).toBe(0);
    });
  });
});
