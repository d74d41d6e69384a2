import type { Admin } from 'kafkajs';
import { canonicalKey, type ChangeEvent } from '../core/change-event';
import { EsFaultProxy } from '../e2e/support/es-fault-proxy';
import { change, createHarness, indexerFor, keyless, type Harness } from '../e2e/support/indexer-harness';
import { env, eventually, kafka, readTopic } from '../e2e/support/services';

/**
 * Elasticsearch faults, injected by a proxy between the indexer and the real Elasticsearch.
 * Outages last longer than the consumer session timeout (6 s), so a member that stopped
 * heartbeating while it retries would be evicted and the group would rebalance.
 */
describe('indexer under Elasticsearch faults', () => {
  let h: Harness;
  let proxy: EsFaultProxy;
  let run: ReturnType<typeof indexerFor>;
  let admin: Admin;
  let joins = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const committed = async () => (await admin.fetchOffsets({ groupId: run.config.groupId, topics: [h.topic] }))[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort().join(',');
  const count = async () => (await h.client.count({ index: h.index })).count;
  const sendTo = (partition: number, ...events: ChangeEvent[]) =>
    h.producer.send({ topic: h.topic, acks: -1, messages: events.map((e) => ({ partition, key: canonicalKey(e.key), value: JSON.stringify(e) })) });
  let nextId = 1;
  const docs = (n: number, lsn: number) => Array.from({ length: n }, () => change(nextId++, lsn, { title: `doc ${nextId}`, year: 2000 }));

  beforeAll(async () => {
    h = await createHarness(3);
    proxy = await new EsFaultProxy(env('ELASTICSEARCH_URL')).start();
    run = indexerFor(h, { esUrl: proxy.url, env: { INDEXER_SESSION_TIMEOUT_MS: '6000', INDEXER_MAX_RETRIES: '3' } });
    run.indexer.group.onAssignment(() => void joins++);
    await run.indexer.start();
    admin = kafka().admin();
    await admin.connect();
    await h.send(...docs(10, 10));
    await eventually(async () => ((await count()) === 10 ? true : undefined), 'first documents');
  });

  afterAll(async () => {
    await admin.disconnect();
    await run.close();
    await proxy.close();
    await h.close();
  });

  it.each([
    ['answering 503', () => proxy.failAll(503)],
    ['refusing connections', () => proxy.refuse()],
  ])('pauses while Elasticsearch is %s, commits nothing unfinished, stays in the group, then delivers everything', async (_what, fault) => {
    const before = await count();
    const joinsBefore = joins;
    await eventually(async () => ((await run.metrics.inFlightMessages.get()).values[0]?.value === 0 ? true : undefined), 'idle before the fault');
    const offsetsBefore = await committed();
    await fault();
    await h.send(...docs(300, 20));
    await sleep(4_000);
    // Paused: what was handed to the indexer stays put while more arrives in Kafka.
    const stuck = (await run.metrics.inFlightMessages.get()).values[0]?.value ?? 0;
    expect(stuck).toBeGreaterThan(0);
    await h.send(...docs(2_000, 30));
    await sleep(10_000);
    expect((await run.metrics.inFlightMessages.get()).values[0]?.value).toBe(stuck);
    // By now a request failed as a whole (the client's own retries of a refused connection take ~8 s).
    expect((await run.metrics.pausedRequests.get()).values[0]?.value).toBeGreaterThan(0);
    expect(await committed()).toBe(offsetsBefore);
    await proxy.heal();
    await eventually(async () => ((await count()) === before + 2_300 ? true : undefined), 'every document after the outage', 40_000);
    expect((await run.metrics.pausedRequests.get()).values[0]?.value).toBe(0);
    expect(joins).toBe(joinsBefore);
    expect(run.fatal).toEqual([]);
  }, 90_000);

  it('retries only the items Elasticsearch rejected with 429', async () => {
    const batch = docs(10, 40);
    const [a, b] = [String(batch[2]!.key.id), String(batch[7]!.key.id)];
    proxy.failItem(a, { status: 429, type: 'es_rejected_execution_exception', times: 2 });
    proxy.failItem(b, { status: 429, type: 'es_rejected_execution_exception', times: 1 });
    const sentBefore = proxy.bulkRequests(h.index).length;
    await sendTo(0, ...batch);
    await eventually(async () => ((await h.client.mget({ index: h.index, ids: batch.map((e) => String(e.key.id)) })).docs.every((d) => 'found' in d && d.found) ? true : undefined), 'the 10 documents');
    const sends = new Map<string, number>();
    for (const req of proxy.bulkRequests(h.index).slice(sentBefore)) for (const i of req) sends.set(i.id, (sends.get(i.id) ?? 0) + 1);
    expect(sends.get(a)).toBe(3);
    expect(sends.get(b)).toBe(2);
    for (const e of batch) if (![a, b].includes(String(e.key.id))) expect(sends.get(String(e.key.id))).toBe(1);
  });

  it('handles a bulk with mixed item errors: poison dead-lettered, retriable retried, the rest done', async () => {
    const batch = docs(8, 50);
    const poison = change(nextId++, 50, { title: 'poison', year: 'not a number' });
    const [r429, r500] = [String(batch[1]!.key.id), String(batch[5]!.key.id)];
    proxy.failItem(r429, { status: 429, type: 'es_rejected_execution_exception', times: 1 });
    proxy.failItem(r500, { status: 500, type: 'internal_server_error', times: 1 });
    const sentBefore = proxy.bulkRequests(h.index).length;
    await sendTo(1, ...batch.slice(0, 4), poison, ...batch.slice(4));
    const ids = batch.map((e) => String(e.key.id));
    await eventually(async () => ((await h.client.mget({ index: h.index, ids })).docs.every((d) => 'found' in d && d.found) ? true : undefined), 'the 8 good documents');
    const [dead] = await readTopic(kafka(), `${h.prefix}.dead-letters`, 1);
    expect(JSON.parse(dead!.value)).toMatchObject({ id: String(poison.key.id), errorType: 'document_parsing_exception', topic: h.topic, partition: 1 });
    const requests = proxy.bulkRequests(h.index).slice(sentBefore);
    expect(requests[0]!.map((i) => i.id).sort()).toEqual([...ids, String(poison.key.id)].sort());
    expect(requests[1]!.map((i) => i.id).sort()).toEqual([r429, r500].sort());
    expect(requests).toHaveLength(2);
    expect(await h.client.exists({ index: h.index, id: String(poison.key.id) })).toBe(false);
  });

  // Last: its truncate empties the index.
  it('reads a batch whose write failed outside the bulk retries (a truncate while Elasticsearch answers 503) again from Kafka, in order, committing nothing past it meanwhile', async () => {
    await eventually(async () => ((await run.metrics.inFlightMessages.get()).values[0]?.value === 0 ? true : undefined), 'idle before the fault');
    const joinsBefore = joins;
    const offsetsBefore = await committed();
    proxy.failAll(503);
    const later = change(nextId++, 6_000, { title: 'written after the truncate', year: 2001 });
    await sendTo(0, keyless('t', 5_000), later);
    await sleep(5_000);
    expect(await committed()).toBe(offsetsBefore);
    await proxy.heal();
    await eventually(async () => ((await count()) === 1 && (await h.client.exists({ index: h.index, id: String(later.key.id) })) ? true : undefined), 'the truncate applied, then the later change', 40_000);
    expect(await committed()).not.toBe(offsetsBefore);
    expect(joins).toBe(joinsBefore); // no consumer restart: the partition was rewound in place
    expect(run.fatal).toEqual([]);
  }, 60_000);
});
