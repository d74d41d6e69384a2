import { parsePipelineConfig } from '../config/pipeline';
import { createKafka } from '../core/kafka';
import { silentLogger } from '../core/logger';
import { readWatermark } from '../core/watermark-store';
import { PIPELINE_FIELDS, allDocs, change, compareDocs, createHarness, indexerFor, keyless, type Harness } from '../e2e/support/indexer-harness';
import { eventually } from '../e2e/support/services';
import { liveMappingHash, mappingHash } from './mappings';
import { aliasTarget } from './reindex/generations';
import { reindex, rollback, type ReindexDeps } from './reindex/reindex';

/**
 * Issue 4 item 5: a mapping change builds <index>_v2 from the topic behind the alias while the
 * live indexer keeps writing and searches keep running; the swap is atomic, v1 is kept, and a
 * rollback brings v1 back with the changes made after the swap.
 */
describe('zero-downtime reindex', () => {
  let h: Harness;
  let live: ReturnType<typeof indexerFor>;
  const expected = new Map<string, { lsn: number; doc?: Record<string, unknown> }>();
  let lsn = 10_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A round of inserts, updates and deletes over keys 1..n. */
  const writeRound = async (n: number, tag: string): Promise<void> => {
    const events = [];
    for (let id = 1; id <= n; id++) {
      lsn++;
      const del = (id + lsn) % 11 === 0 && id > 1; // key 1 always exists: searches never match nothing
      const doc = { title: `row ${id} ${tag}`, year: 1900 + (id % 100), n: lsn };
      events.push(del ? change(id, lsn) : change(id, lsn, doc));
      expected.set(String(id), del ? { lsn } : { lsn, doc });
    }
    await h.send(...events);
  };
  const searchable = async (): Promise<void> => {
    lsn++;
    await h.broadcast(keyless('h', lsn));
    const want = BigInt(lsn);
    await eventually(async () => ((await readWatermark(h.client, h.index, h.topic))?.lsn ?? 0n) >= want ? true : undefined, `watermark at ${lsn}`, 60_000);
  };
  const diff = async () => compareDocs(expected, await allDocs(h.client, h.index));

  beforeAll(async () => {
    h = await createHarness(3);
    live = indexerFor(h);
    await live.indexer.start();
  });

  afterAll(async () => {
    await live.close();
    await h.close();
  });

  it('builds v2 from the topic while writes and searches go on, swaps atomically, keeps v1, and rolls back', async () => {
    for (let round = 0; round < 4; round++) await writeRound(1_500, `a${round}`);
    await searchable();

    // Searches in a loop through the alias for the whole reindex: never an error, never empty.
    let stopSearching = false;
    const seen = { searches: 0, errors: [] as string[], empty: 0 };
    const searching = (async () => {
      while (!stopSearching) {
        try {
          const r = await h.client.search({ index: h.index, size: 1, query: { match: { title: 'row' } }, track_total_hits: true });
          seen.searches++;
          if (((r.hits.total as { value: number }).value ?? 0) === 0) seen.empty++;
        } catch (err) {
          seen.errors.push(String(err));
        }
        await sleep(5);
      }
    })();
    // The live indexer keeps receiving changes while v2 is built.
    let stopWriting = false;
    let rounds = 0;
    const writing = (async () => {
      while (!stopWriting) {
        await writeRound(300, `b${rounds++}`);
        await sleep(200);
      }
    })();

    // The config changes: title becomes sortable, which adds a keyword sub-field.
    const changed = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [h.index]: { table: h.table, fields: { ...PIPELINE_FIELDS, title: { ...PIPELINE_FIELDS.title, sortable: true } } } } }));
    const spec = changed.indexes[0]!;
    expect(await liveMappingHash(h.client, h.index)).not.toBe(mappingHash(spec));
    const phases = new Set<string>();
    const deps: ReindexDeps = { config: live.config, pipeline: changed, kafka: createKafka(live.config.kafkaBrokers, 'reindex-test', silentLogger), es: h.client, log: silentLogger, onProgress: (p) => void phases.add(p) };
    const writesStopped = (async () => {
      // Stop writing a few seconds into the replay so the swap's quiet cut comes soon.
      await eventually(async () => (phases.has('replay') ? true : undefined), 'replay started', 60_000);
      await sleep(3_000);
      stopWriting = true;
      await writing;
    })();
    const result = await reindex(deps, h.index, { ifChanged: true });
    await writesStopped;
    expect(rounds).toBeGreaterThan(2);
    expect(result).toMatchObject({ from: `${h.index}_v1`, to: `${h.index}_v2` });
    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v2`);
    expect(await h.client.indices.exists({ index: `${h.index}_v1` })).toBe(true);
    const mapping = await h.client.indices.getMapping({ index: `${h.index}_v2` });
    expect(mapping[`${h.index}_v2`]!.mappings.properties!.title).toMatchObject({ fields: { raw: { type: 'keyword' } } });
    expect(await liveMappingHash(h.client, h.index)).toBe(mappingHash(spec));
    expect([...phases]).toEqual(['replay', 'verify', 'tail']);

    // Writes after the swap land in v2 through the alias.
    await writeRound(500, 'c');
    await searchable();
    expect(await diff()).toEqual({ missing: [], extra: [], stale: [] });
    expect(await reindex(deps, h.index, { ifChanged: true })).toMatchObject({ skipped: true });

    // Rollback: v1 catches up with what changed since the swap, then the alias goes back.
    const back = await rollback(deps, h.index);
    expect(back).toMatchObject({ from: `${h.index}_v2`, to: `${h.index}_v1` });
    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v1`);
    await writeRound(200, 'd');
    await searchable();
    expect(await diff()).toEqual({ missing: [], extra: [], stale: [] });

    stopSearching = true;
    await searching;
    expect(seen.errors).toEqual([]);
    expect(seen.empty).toBe(0);
    expect(seen.searches).toBeGreaterThan(50);
    expect(live.fatal).toEqual([]);
  }, 240_000);
});
