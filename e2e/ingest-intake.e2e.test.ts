import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import type { ChangeEvent } from '../core/change-event';
import { decodeConsistencyToken } from '../core/consistency-token';
import { es, eventually, kafka, pg, readTopic, uniqueName } from './support/services';
import { freePort, startService, stopService, type RunningService } from './support/processes';

/**
 * An upstream service's events through the running ingest process (POST /v1/events) and the
 * indexer into Elasticsearch, read back through the API with the consistency token, next to a table ingest captures from Postgres: the upstream table
 * is not captured (it does not even exist in Postgres) and its topic carries only its events.
 */
describe('event intake end to end', () => {
  const cdcTable = uniqueName('books');
  const upTable = uniqueName('orders');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const elastic = es();
  const services: RunningService[] = [];
  let db: Client;
  let intake: string;
  let api: string;
  let pipelineFile: string;

  const post = async (events: ChangeEvent[]): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${intake}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.map((e) => JSON.stringify(e)).join('\n') });
    return { status: res.status, body: await res.json() };
  };
  const order = (id: string, version: number, after?: Record<string, unknown>): ChangeEvent => ({
    v: 1, op: after ? 'u' : 'd', source: { schema: 'public', table: upTable }, key: { id }, ...(after ? { after: { id, ...after } } : {}),
    lsn: String(version), commitLsn: String(version), txId: version, ts: new Date().toISOString(),
  });
  /** Every order document, once the index holds exactly `ids`. */
  const ordersWhen = async (ids: string[]) => {
    await elastic.indices.refresh({ index: upTable });
    const r = await elastic.search<Record<string, unknown>>({ index: upTable, size: 100, version: true, sort: ['_doc'] });
    const got = r.hits.hits.map((h) => ({ id: h._id!, version: h._version, ...h._source }));
    return got.map((d) => d.id).sort().join() === [...ids].sort().join() ? new Map(got.map((d) => [d.id, d])) : undefined;
  };

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${cdcTable} (id int PRIMARY KEY, title text)`);
    pipelineFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-intake-')), 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: {
      [cdcTable]: { table: cdcTable, fields: { title: { type: 'text', searchable: true } } },
      [upTable]: { table: upTable, fields: { title: { type: 'text', searchable: true }, status: { type: 'keyword', filterable: true } } },
    } }));
    const port = await freePort();
    intake = `http://127.0.0.1:${port}`;
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const env = {
      API_PORT: String(apiPort), API_URL: api, API_CONSISTENCY_WAIT_MS: '60000', PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INDEXER_GROUP_ID: uniqueName('g'),
      INGEST_HTTP_PORT: String(port), INGEST_HTTP_TABLES: `public.${upTable}`, INGEST_HEARTBEAT_INTERVAL_MS: '200', INDEXER_WATERMARK_INTERVAL_MS: '100',
    };
    services.push(startService('ingest', env), startService('indexer', env), startService('api', env));
    await eventually(async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'api ready', 90_000);
    await eventually(async () => ((await fetch(`${intake}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 'intake listening', 90_000);
    await eventually(async () => ((await elastic.indices.exists({ index: upTable })) ? true : undefined), 'index created by indexer', 90_000);
  });

  afterAll(async () => {
    const codes: Record<string, number | null> = {};
    for (const s of services) {
      codes[s.name] = await stopService(s);
      if (codes[s.name] !== 0) process.stderr.write(`${s.name} exited ${codes[s.name]}:\n${s.output().slice(-3000)}\n`);
    }
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query(`DROP TABLE IF EXISTS ${cdcTable}`);
    await db.end();
    await elastic.close();
    expect(codes.ingest).toBe(0); // SIGTERM drains the intake and CDC and exits cleanly
  });

  it('indexes posted events with their versions; an older version after a newer one changes nothing', async () => {
    // Keys 1 and 3 land on partition 2, key 2 on 1, key 5 on 0: every partition gets a position, which
    // the index needs before it reports asOf (the lowest position over all partitions of its topic).
    const first = await post([order('1', 10, { title: 'first', status: 'new' }), order('2', 11, { title: 'second', status: 'new' }), order('3', 12, { title: 'third', status: 'new' }), order('5', 13, { title: 'fifth', status: 'new' }), order('1', 20, { title: 'first, paid', status: 'paid' }), order('2', 21)]);
    expect(first).toMatchObject({ status: 200 });
    expect(first.body.accepted).toBe(6);
    expect(decodeConsistencyToken(first.body.consistencyToken).every((p) => p.topic === `${prefix}.public.${upTable}`)).toBe(true);
    expect(decodeConsistencyToken(first.body.consistencyToken).map((p) => [p.partition, p.lsn])).toEqual([[0, 13n], [1, 21n], [2, 20n]]);
    const docs = await eventually(() => ordersWhen(['1', '3', '5']), 'orders 1, 3 and 5 indexed, 2 deleted', 60_000);
    expect(docs.get('1')).toMatchObject({ version: 20, title: 'first, paid', status: 'paid' });
    expect(docs.get('3')).toMatchObject({ version: 12, title: 'third' });

    // The API honours the token once the indexer published positions for the index (before that it
    // answers stale at once: nothing could make it catch up).
    await eventually(async () => {
      const r = (await (await fetch(`${api}/v1/indexes/${upTable}/search?consistency=${encodeURIComponent(first.body.consistencyToken)}`)).json()) as { stale?: boolean };
      return r.stale === false ? true : undefined;
    }, 'first token honoured', 60_000);

    // A late retry of an old version, then a marker write behind it on another row.
    const second = await post([order('1', 15, { title: 'stale', status: 'new' }), order('3', 30, { title: 'third, shipped', status: 'shipped' })]);
    expect(second.status).toBe(200);
    // Read your writes: given the token, the API answers once the index holds the writes.
    const read = await fetch(`${api}/v1/indexes/${upTable}/search?consistency=${encodeURIComponent(second.body.consistencyToken)}`);
    const page = (await read.json()) as { stale: boolean; hits: Array<{ id: string; document: Record<string, unknown> }> };
    expect({ status: read.status, stale: page.stale }).toEqual({ status: 200, stale: false });
    expect(page.hits.map((h) => [h.id, h.document.title]).sort()).toEqual([['1', 'first, paid'], ['3', 'third, shipped'], ['5', 'fifth']]);
    const after = await eventually(async () => {
      const d = await ordersWhen(['1', '3', '5']);
      return d?.get('3')?.version === 30 ? d : undefined;
    }, 'marker write indexed', 60_000);
    expect(after.get('1')).toMatchObject({ version: 20, title: 'first, paid' });
  });

  it('keeps CDC for the other table, and the upstream topic free of WAL heartbeats', async () => {
    await db.query(`INSERT INTO ${cdcTable} VALUES (1, 'captured')`);
    await eventually(async () => {
      await elastic.indices.refresh({ index: cdcTable });
      return (await elastic.count({ index: cdcTable })).count === 1 ? true : undefined;
    }, 'CDC row indexed', 60_000);
    const cdcTopic = await readTopic(kafka(), `${prefix}.public.${cdcTable}`, 1);
    expect(cdcTopic.some((m) => (JSON.parse(m.value) as ChangeEvent).op === 'h')).toBe(true);

    const upstream = await readTopic(kafka(), `${prefix}.public.${upTable}`, 8);
    const admin = kafka().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${prefix}.public.${upTable}`).finally(() => admin.disconnect());
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(8); // heartbeats reached the CDC topic, none this one
    expect(upstream.map((m) => (JSON.parse(m.value) as ChangeEvent).op).sort()).toEqual(['d', 'u', 'u', 'u', 'u', 'u', 'u', 'u']);
    const tables = (await db.query('SELECT tablename FROM pg_publication_tables WHERE pubname = $1', [slot])).rows.map((r: { tablename: string }) => r.tablename);
    expect(tables).toEqual([cdcTable]);
  });

  it('refuses a table the intake takes while the publication still captures it, saying how to fix it', async () => {
    const moved = uniqueName('moved');
    const publication = uniqueName('pub');
    await db.query(`CREATE TABLE ${moved} (id int PRIMARY KEY)`);
    await db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${moved}`);
    try {
      const file = path.join(path.dirname(pipelineFile), 'moved.json');
      fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [moved]: { table: moved, fields: { title: { type: 'text', searchable: true } } } } }));
      const s = startService('ingest', { PIPELINE_CONFIG: file, PUBLICATION_NAME: publication, SLOT_NAME: uniqueName('slot'), INGEST_HTTP_PORT: String(await freePort()), INGEST_HTTP_TABLES: `public.${moved}` });
      const code = await new Promise<number | null>((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.once('exit', r)));
      expect(code).toBe(1);
      expect(s.output()).toContain(`ingest failed to start: INGEST_HTTP_TABLES lists public.${moved}, which publication ${publication} still captures from Postgres`);
    } finally {
      await db.query(`DROP PUBLICATION IF EXISTS ${publication}`);
      await db.query(`DROP TABLE IF EXISTS ${moved}`);
    }
  });
});
