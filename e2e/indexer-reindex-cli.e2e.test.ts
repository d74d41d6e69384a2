import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWatermark } from '../core/watermark-store';
import { reindexLeaseName } from '../indexer/reindex/auto-reindex';
import { aliasTarget, generations } from '../indexer/reindex/generations';
import { acquireLease } from '../indexer/reindex/reindex-lease';
import { PIPELINE_FIELDS, change, createHarness, indexerFor, keyless, type Harness } from './support/indexer-harness';
import { startService, stopService } from './support/processes';
import { eventually, uniqueName } from './support/services';

const ROOT = path.join(__dirname, '..');

/** `npm run reindex -- <index> [--if-changed] [--rollback]` as an operator runs it, next to a live indexer. */
describe('reindex CLI', () => {
  let h: Harness;
  let live: ReturnType<typeof indexerFor>;
  let cliEnv: Record<string, string>;

  const cli = (...args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'reindex.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...cliEnv } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });

  beforeAll(async () => {
    h = await createHarness(3);
    live = indexerFor(h);
    await live.indexer.start();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reindex-cli-')), 'pipeline.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [h.index]: { table: h.table, fields: { ...PIPELINE_FIELDS, title: { ...PIPELINE_FIELDS.title, sortable: true } } } } }));
    cliEnv = { PIPELINE_CONFIG: file, TOPIC_PREFIX: h.prefix, INDEXER_GROUP_ID: live.config.groupId, ELASTICSEARCH_URL: live.config.elasticsearchUrl };
  });

  afterAll(async () => {
    await live.close();
    await h.close();
  });

  it('swaps to a new generation with a progress bar, skips when unchanged, rolls back, and names a wrong index', async () => {
    await h.send(...Array.from({ length: 500 }, (_, i) => change(i + 1, 100 + i, { title: `title ${i}`, year: 2000, n: i })));
    await h.broadcast(keyless('h', 1_000));
    await eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn === 1_000n ? true : undefined), 'first documents searchable');

    const first = await cli(h.index, '--if-changed');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/replaying the topic +100% 503\/503/); // 500 rows + 3 heartbeats
    expect(first.out).toContain(`alias moved from ${h.index}_v1 to ${h.index}_v2 (500 documents)`);
    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v2`);

    const again = await cli(h.index, '--if-changed');
    expect(again).toMatchObject({ code: 0, out: expect.stringContaining('mapping unchanged') });

    const back = await cli(h.index, '--rollback');
    expect(back.code).toBe(0);
    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v1`);

    const wrong = await cli('no_such_index');
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/index "no_such_index" is not in the pipeline config .*pipeline\.json; configured: /);
  }, 180_000);

  it('refuses while another process holds the reindex lease; an indexer started with the changed config reindexes by itself', async () => {
    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v1`); // rolled back above: v1 has the old mapping
    const held = await acquireLease(h.client, reindexLeaseName(h.index), 'indexer@elsewhere:1');
    if (!('lease' in held)) throw new Error(`lease unexpectedly held by ${held.heldBy.owner}`);
    try {
      const refused = await cli(h.index);
      expect(refused.code).toBe(3);
      expect(refused.out).toContain(`reindex refused: indexer@elsewhere:1 is reindexing ${h.index}`);
    } finally {
      await held.lease.release();
    }

    // The indexer process itself (indexer/main.ts), with the config that adds the title.raw sub-field.
    const indexer = startService('indexer', { ...cliEnv, INDEXER_GROUP_ID: uniqueName('g'), LOG_LEVEL: 'info' });
    try {
      await eventually(async () => ((await aliasTarget(h.client, h.index)) === `${h.index}_v3` ? true : undefined), 'alias moved to v3 by the indexer', 120_000);
      expect(await generations(h.client, h.index)).toEqual([1, 2, 3]);
      expect(indexer.output()).toContain('reindexing in the background');
      // The new sub-field exists and holds the replayed documents.
      const exact = await h.client.search({ index: h.index, query: { term: { 'title.raw': 'title 7' } } });
      expect(exact.hits.hits.map((x) => x._id)).toEqual(['8']);
    } finally {
      await stopService(indexer);
    }
  }, 180_000);
});
