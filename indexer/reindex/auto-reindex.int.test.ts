import { createKafka } from '../../core/kafka';
import { silentLogger } from '../../core/logger';
import { readWatermark } from '../../core/watermark-store';
import { PIPELINE_FIELDS, allDocs, change, createHarness, indexerFor, keyless, type Harness } from '../../e2e/support/indexer-harness';
import { eventually, uniqueName } from '../../e2e/support/services';
import { liveMappingHash, mappingHash } from '../mappings';
import { reindexLeaseName, startAutoReindex } from './auto-reindex';
import { aliasTarget, generations } from './generations';
import { LEASE_INDEX, acquireLease } from './reindex-lease';

/**
 * Issue 4 item 5, "on a mapping change": an indexer started with a config that maps the index
 * differently reindexes by itself, once across the processes of the group (a lease), while it
 * keeps writing the live generation; the CLI and the indexers share that lease.
 */
describe('reindex after a mapping change', () => {
  let h: Harness;
  let lsn = 50_000;
  const expected = new Map<string, { lsn: number; doc: Record<string, unknown> }>();
  const write = async (n: number, tag: string): Promise<void> => {
    const events = [];
    for (let id = 1; id <= n; id++) {
      lsn++;
      const doc = { title: `item ${id} ${tag}`, year: 2000 + (id % 20), n: lsn };
      events.push(change(id, lsn, doc));
      expected.set(String(id), { lsn, doc });
    }
    await h.send(...events);
  };
  const searchable = async (): Promise<void> => {
    lsn++;
    await h.broadcast(keyless('h', lsn));
    const want = BigInt(lsn);
    await eventually(async () => (((await readWatermark(h.client, h.index, h.topic))?.lsn ?? 0n) >= want ? true : undefined), `watermark at ${lsn}`, 60_000);
  };

  // Closed also when an assertion fails midway, or their loops would keep jest alive.
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    h = await createHarness(2);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await h.close();
  });

  it('two indexers with the changed config build exactly one new generation, swap the alias, and lose nothing', async () => {
    const group = uniqueName('g');
    const before = indexerFor(h, { groupId: group });
    await before.indexer.start();
    for (let round = 0; round < 5; round++) await write(2_000, `a${round}`); // a replay long enough to overlap
    await searchable();
    await before.close();

    // The config changes: title becomes sortable (a keyword sub-field the live generation lacks).
    const fields = { ...PIPELINE_FIELDS, title: { ...PIPELINE_FIELDS.title, sortable: true } };
    const after = [indexerFor(h, { groupId: group, fields }), indexerFor(h, { groupId: group, fields })];
    for (const a of after) {
      cleanups.push(() => a.close());
      await a.indexer.start();
    }
    const spec = after[0]!.pipeline.indexes[0]!;
    expect(await liveMappingHash(h.client, h.index)).not.toBe(mappingHash(spec));

    const kafka = createKafka(after[0]!.config.kafkaBrokers, 'auto-reindex-test', silentLogger);
    const auto = (owner: string) => {
      const r = startAutoReindex({ config: after[0]!.config, pipeline: after[0]!.pipeline, kafka, es: h.client, log: silentLogger, owner, retryMs: 300 });
      cleanups.push(() => r.close());
      return r;
    };
    const a = auto('a');
    // The second process starts while the first one's replay runs: without the lease it would build a v3.
    await eventually(async () => ((await generations(h.client, h.index)).includes(2) ? true : undefined), 'v2 created', 60_000);
    const b = auto('b');
    // Writes keep arriving during the reindex; the live generation takes them, the tail carries them over.
    await write(300, 'b');
    await Promise.all([a.done, b.done]);

    expect(await aliasTarget(h.client, h.index)).toBe(`${h.index}_v2`);
    expect(await generations(h.client, h.index)).toEqual([1, 2]); // one replay, not one per process
    expect(await liveMappingHash(h.client, h.index)).toBe(mappingHash(spec));
    const mapping = await h.client.indices.getMapping({ index: `${h.index}_v2` });
    expect(mapping[`${h.index}_v2`]!.mappings.properties!.title).toMatchObject({ fields: { raw: { type: 'keyword' } } });
    expect((await h.client.get({ index: LEASE_INDEX, id: reindexLeaseName(h.index) }, { ignore: [404] })).found).toBe(false);

    await write(100, 'c');
    await searchable();
    const docs = await allDocs(h.client, h.index);
    expect(docs.size).toBe(expected.size);
    const wrong = [...expected].filter(([id, want]) => docs.get(id)?.version !== String(want.lsn) || docs.get(id)?.source !== JSON.stringify(want.doc));
    expect(wrong).toEqual([]);
    // The new sub-field works: sorting by title is accepted only with the keyword sub-field.
    const sorted = await h.client.search({ index: h.index, size: 1, sort: [{ 'title.raw': 'asc' }] });
    expect(sorted.hits.hits).toHaveLength(1);
    for (const a of after) expect(a.fatal).toEqual([]);
  }, 180_000);

  it('the lease goes to one holder; an expired one is taken over and its old holder learns it lost it', async () => {
    const name = uniqueName('lease');
    let clock = Date.now();
    const now = () => clock;
    const first = await acquireLease(h.client, name, 'one', { ttlMs: 3_000, now });
    if ('lease' in first) cleanups.push(() => first.lease.release());
    expect('lease' in first).toBe(true);
    expect(await acquireLease(h.client, name, 'two', { ttlMs: 3_000, now })).toEqual({ heldBy: { owner: 'one', expiresAt: clock + 3_000 } });

    clock += 10_000; // 'one' stopped renewing long ago (a killed process)
    const second = await acquireLease(h.client, name, 'two', { ttlMs: 3_000, now });
    expect('lease' in second).toBe(true);
    // 'one' renews every ttl/3 (at least 1 s): compare-and-set fails, it learns it lost the lease.
    if (!('lease' in first)) throw new Error('unreachable');
    await eventually(async () => (first.lease.lost ? true : undefined), 'old holder notices', 10_000);
    await first.lease.release(); // must not delete the new holder's lease
    expect(await acquireLease(h.client, name, 'three', { ttlMs: 3_000, now })).toMatchObject({ heldBy: { owner: 'two' } });
    if (!('lease' in second)) throw new Error('unreachable');
    await second.lease.release();
    const third = await acquireLease(h.client, name, 'three', { ttlMs: 3_000, now });
    if (!('lease' in third)) throw new Error(`lease still held by ${third.heldBy.owner}`);
    await third.lease.release();
    expect((await h.client.get({ index: LEASE_INDEX, id: name }, { ignore: [404] })).found).toBe(false);
  }, 60_000);
});
