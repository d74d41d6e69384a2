import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPositions, readWatermark } from '../core/watermark-store';
import { EsFaultProxy } from './support/es-fault-proxy';
import { allDocs, change, compareDocs, createHarness, type Harness, keyless, PIPELINE_FIELDS } from './support/indexer-harness';
import { startService, stopService, type RunningService } from './support/processes';
import { env, eventually, kafka, uniqueName } from './support/services';

/**
 * Issue 4 item 6: three indexer processes in one consumer group share six partitions while
 * inserts, updates and deletes flow; one is killed with SIGKILL and later another stopped with
 * SIGTERM, so the group rebalances twice under load. Then Elasticsearch must hold exactly the
 * expected state: missing, extra and stale = 0. Each process talks to Elasticsearch through its
 * own proxy, which shows which process wrote what.
 */
describe('several indexers in one consumer group, with rebalances', () => {
  let h: Harness;
  const proxies: EsFaultProxy[] = [];
  const services: RunningService[] = [];
  const logs: string[] = [];
  let groupId = '';

  beforeAll(async () => {
    h = await createHarness(6);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-'));
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [h.index]: { table: h.table, fields: PIPELINE_FIELDS } } }));
    groupId = uniqueName('g');
    for (let i = 0; i < 3; i++) {
      const proxy = await new EsFaultProxy(env('ELASTICSEARCH_URL')).start();
      proxies.push(proxy);
      services.push(startService('indexer', {
        PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: h.prefix, INDEXER_GROUP_ID: groupId, ELASTICSEARCH_URL: proxy.url,
        INDEXER_WATERMARK_INTERVAL_MS: '100', INDEXER_SESSION_TIMEOUT_MS: '6000', INDEXER_BATCH_MAX_DOCS: '200',
      }));
    }
  });

  afterAll(async () => {
    for (const s of services) {
      logs.push(s.output());
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue; // stopped by the test
      const code = await stopService(s);
      if (code !== 0 && code !== null) process.stderr.write(`indexer exited ${code}:\n${s.output().slice(-2000)}\n`);
    }
    for (const p of proxies) await p.close();
    await h.close();
  });

  it('ends with exactly the expected documents after a SIGKILL and a SIGTERM mid-stream', async () => {
    const expected = new Map<string, { lsn: number; doc?: Record<string, unknown> }>();
    let lsn = 5_000;
    let nextKey = 1;
    const writeRound = async (): Promise<void> => {
      const events = [];
      for (let i = 0; i < 300; i++) {
        lsn++;
        const roll = (lsn * 7919) % 10;
        const id = roll < 7 || nextKey < 100 ? nextKey++ : nextKey - 1 - ((lsn * 31) % 90);
        const del = roll === 9 && nextKey >= 100;
        const doc = { title: `row ${id} at ${lsn}`, year: 1900 + (lsn % 100), n: lsn };
        events.push(del ? change(id, lsn) : change(id, lsn, doc));
        expected.set(String(id), del ? { lsn } : { lsn, doc });
      }
      await h.send(...events);
      await new Promise((r) => setTimeout(r, 100));
    };
    const itemsVia = (p: EsFaultProxy) => p.bulkRequests(h.index).reduce((n, r) => n + r.length, 0);

    // All three take part before anything is stopped.
    for (let round = 0; round < 200 && !proxies.every((p) => itemsVia(p) > 0); round++) await writeRound();
    expect(proxies.map(itemsVia).every((n) => n > 0)).toBe(true);
    for (let round = 0; round < 10; round++) await writeRound();

    await stopService(services[0]!, 'SIGKILL');
    const [afterKill1, afterKill2] = [itemsVia(proxies[1]!), itemsVia(proxies[2]!)];
    for (let round = 0; round < 40; round++) await writeRound(); // spans the session timeout: the group rebalances

    // A graceful stop of a second member while writes go on.
    const stopping = stopService(services[1]!, 'SIGTERM');
    for (let round = 0; round < 30; round++) await writeRound();
    expect(await stopping).toBe(0);
    for (let round = 0; round < 20; round++) await writeRound();

    lsn++;
    await h.broadcast(keyless('h', lsn));
    try {
      await eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn === BigInt(lsn) ? true : undefined), 'watermark past the last write', 120_000);
    } catch (err) {
      const admin = kafka().admin();
      await admin.connect();
      const lag = await admin.fetchOffsets({ groupId, topics: [h.topic] });
      const ends = await admin.fetchTopicOffsets(h.topic);
      await admin.disconnect();
      process.stderr.write(`committed ${JSON.stringify(lag)}\nends ${JSON.stringify(ends)}\npositions ${JSON.stringify([...(await readPositions(h.client, h.index, h.topic))?.positions ?? []])}\nsurvivor: ${services[2]!.output().slice(-3000)}\n`);
      throw err;
    }

    const actual = await allDocs(h.client, h.index);
    const { missing, extra, stale } = compareDocs(expected, actual);
    const perProcess = proxies.map(itemsVia);
    process.stdout.write(`scale: keys=${expected.size} docs=${actual.size} bulk items per process=${perProcess.join('/')} missing=${missing.length} extra=${extra.length} stale=${stale.length}\n`);

    // The survivors took over: the last one wrote after both stops.
    expect(itemsVia(proxies[2]!)).toBeGreaterThan(afterKill2);
    expect(itemsVia(proxies[1]!)).toBeGreaterThanOrEqual(afterKill1);
    expect({ missing, extra, stale }).toEqual({ missing: [], extra: [], stale: [] });
  }, 300_000);
});
