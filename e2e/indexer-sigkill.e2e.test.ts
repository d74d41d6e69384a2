import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWatermark } from '../core/watermark-store';
import { EsFaultProxy } from './support/es-fault-proxy';
import { allDocs, change, compareDocs, createHarness, type Harness, keyless, PIPELINE_FIELDS } from './support/indexer-harness';
import { startService, stopService, type RunningService } from './support/processes';
import { env, eventually, uniqueName } from './support/services';

/**
 * docs/reliability.md scenario 1: kill -9 the indexer in the middle of a bulk request, repeatedly,
 * while inserts, updates and deletes flow; then compare Elasticsearch with the expected final
 * state of every key. Missing, extra and stale must be 0; duplicate deliveries are reported.
 */
describe('indexer killed with SIGKILL mid-bulk, repeatedly', () => {
  let h: Harness;
  let proxy: EsFaultProxy;
  let indexer: RunningService;
  let serviceEnv: Record<string, string>;
  const logs: string[] = [];

  beforeAll(async () => {
    h = await createHarness(3);
    proxy = await new EsFaultProxy(env('ELASTICSEARCH_URL')).start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigkill-'));
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [h.index]: { table: h.table, fields: PIPELINE_FIELDS } } }));
    serviceEnv = {
      PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: h.prefix, INDEXER_GROUP_ID: uniqueName('g'), ELASTICSEARCH_URL: proxy.url,
      INDEXER_WATERMARK_INTERVAL_MS: '100', INDEXER_SESSION_TIMEOUT_MS: '6000', INDEXER_BATCH_MAX_DOCS: '200',
    };
    indexer = startService('indexer', serviceEnv);
  });

  afterAll(async () => {
    logs.push(indexer.output());
    const code = await stopService(indexer);
    if (code !== 0) process.stderr.write(`indexer exited ${code}:\n${logs.join('\n').slice(-3000)}\n`);
    await proxy.close();
    await h.close();
  });

  it('ends with exactly the expected documents: missing = extra = stale = 0', async () => {
    const expected = new Map<string, { lsn: number; doc?: Record<string, unknown> }>();
    let lsn = 1_000;
    let kills = 0;
    let killing = false;
    const killMidBulk = async (): Promise<void> => {
      killing = true;
      logs.push(indexer.output());
      await stopService(indexer, 'SIGKILL');
      kills++;
      indexer = startService('indexer', serviceEnv);
      killing = false;
    };
    // Kill as a bulk request of our index arrives: the indexer is then mid-bulk by construction.
    let bulksSinceStart = 0;
    proxy.onBulk = (items) => {
      if (killing || kills >= 5 || !items.some((i) => i.index === h.index)) return;
      if (++bulksSinceStart < 3) return; // let each incarnation make some progress first
      bulksSinceStart = 0;
      void killMidBulk();
    };

    // Mostly new keys, so an event lost anywhere shows as a missing document; updates and
    // deletes hit recent keys (often still in flight when the kill comes).
    let nextKey = 1;
    // Writes flow until the fifth kill (each restart waits for the group to drop the killed member).
    for (let round = 0; round < 800 && (round < 30 || kills < 5); round++) {
      const events = [];
      for (let i = 0; i < 200; i++) {
        lsn += 1;
        const roll = (lsn * 7919) % 10;
        const id = roll < 7 || nextKey < 50 ? nextKey++ : nextKey - 1 - ((lsn * 31) % 40);
        const del = roll === 9 && nextKey >= 50;
        const doc = { title: `row ${id} at ${lsn}`, year: 1900 + (lsn % 100), n: lsn };
        events.push(del ? change(id, lsn) : change(id, lsn, doc));
        expected.set(String(id), del ? { lsn } : { lsn, doc });
      }
      await h.send(...events);
      await new Promise((r) => setTimeout(r, 100));
    }
    proxy.onBulk = undefined;
    await eventually(async () => (killing ? undefined : true), 'last restart');
    await h.broadcast(keyless('h', lsn + 1));
    await eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn === BigInt(lsn + 1) ? true : undefined), 'watermark past the last write', 90_000);

    const actual = await allDocs(h.client, h.index);
    const { missing, extra, stale } = compareDocs(expected, actual);

    const sent = new Map<string, number>();
    for (const req of proxy.bulkRequests(h.index)) for (const i of req) sent.set(`${i.id}@${i.version}`, (sent.get(`${i.id}@${i.version}`) ?? 0) + 1);
    const duplicates = [...sent.values()].reduce((s, n) => s + n - 1, 0);
    process.stdout.write(`sigkill: kills=${kills} keys=${expected.size} docs=${actual.size} missing=${missing.length} extra=${extra.length} stale=${stale.length} duplicate bulk items=${duplicates}\n`);

    expect(kills).toBe(5);
    expect({ missing, extra, stale }).toEqual({ missing: [], extra: [], stale: [] });
  }, 240_000);
});
