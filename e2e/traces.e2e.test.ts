import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { readSpanLines, type SpanLine } from '../core/trace-file-exporter';
import { es, eventually, pg, uniqueName } from './support/services';
import { freePort, startService, stopService, type RunningService } from './support/processes';

/**
 * One committed change is one trace from ingest to searchable (docs/operations.md, "Traces"):
 * ingest and the indexer run as real processes with TRACING=file, each into its own file.
 */
describe('traces across stages', () => {
  const table = uniqueName('traced');
  const index = uniqueName('traced');
  const upstream = uniqueName('traced_up'); // fed by POST /v1/events
  let intake: string;
  const slot = uniqueName('slot');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-traces-'));
  const files = { ingest: path.join(dir, 'ingest.jsonl'), indexer: path.join(dir, 'indexer.jsonl') };
  let db: Client;
  const services: RunningService[] = [];
  const elastic = es();
  const spans = (): SpanLine[] => [...readSpanLines(files.ingest), ...readSpanLines(files.indexer)];

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL)`);
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true } } }, [upstream]: { table: upstream, fields: { title: { type: 'text', searchable: true } } } } }));
    const port = await freePort();
    intake = `http://127.0.0.1:${port}`;
    const env = { INGEST_HTTP_PORT: String(port), INGEST_HTTP_TABLES: `public.${upstream}`, PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: uniqueName('e2e'), INDEXER_GROUP_ID: uniqueName('g'), TRACING: 'file', TRACING_SAMPLE_RATIO: '1', TRACING_EXPORT_DELAY_MS: '100' };
    services.push(startService('ingest', { ...env, TRACING_FILE: files.ingest }), startService('indexer', { ...env, TRACING_FILE: files.indexer }));
    await eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount ? true : undefined), 'slot created by ingest');
    await eventually(async () => ((await elastic.indices.exists({ index })) ? true : undefined), 'index created by indexer');
  });

  afterAll(async () => {
    for (const s of services) {
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-3000)}\n`);
    }
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    await elastic.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives one committed change one trace: decoded by ingest, made searchable by the indexer, with its batch, bulk and refresh linked', async () => {
    await db.query(`INSERT INTO ${table} VALUES (1, 'The Left Hand of Darkness')`);
    await eventually(async () => ((await elastic.search({ index, q: 'title:darkness' })).hits.hits.length === 1 ? true : undefined), 'the insert searchable');

    // The change's trace: ingest's decode span is its root, the indexer's searchable span its child (via the Kafka header).
    const { decode, searchable } = await eventually(async () => {
      const all = spans();
      const d = all.find((s) => s.service === 'ingest' && s.name === 'ingest.decode' && s.attributes['pipeline.table'] === `public.${table}`);
      const c = d && all.find((s) => s.service === 'indexer' && s.name === 'indexer.searchable' && s.traceId === d.traceId);
      return d && c ? { decode: d, searchable: c } : undefined;
    }, 'spans of the change from ingest and the indexer', 30_000);
    expect(decode.parentSpanId).toBeUndefined();
    expect(decode.attributes).toMatchObject({ 'pipeline.op': 'c', 'pipeline.events': 1 });
    expect(searchable.parentSpanId).toBe(decode.spanId);
    const inTrace = spans().filter((s) => s.traceId === decode.traceId);
    expect(new Set(inTrace.map((s) => s.service))).toEqual(new Set(['ingest', 'indexer']));

    // The batch spans serve many changes, so they link to the change rather than sit in its trace.
    const all = spans();
    const linksTo = (s: SpanLine, target: SpanLine) => s.links.some((l) => l.traceId === target.traceId && l.spanId === target.spanId);
    expect(all.filter((s) => s.name === 'ingest.produce' && linksTo(s, decode))).toHaveLength(1);
    const batch = all.find((s) => s.name === 'indexer.batch' && linksTo(s, decode))!;
    expect(batch).toBeDefined();
    expect(linksTo(searchable, batch)).toBe(true);
    expect(all.filter((s) => s.name === 'indexer.bulk' && s.traceId === batch.traceId && s.parentSpanId === batch.spanId).length).toBeGreaterThanOrEqual(1);
    // Searchable means refreshed: the refresh that ended the change's span links to it (the order
    // itself is indexer/watermark/publisher.test.ts's; span clocks here are only ms-anchored).
    const refresh = all.find((s) => s.name === 'indexer.refresh' && linksTo(s, searchable))!;
    expect(refresh).toBeDefined();
    expect(refresh.status).toBe('ok');
    expect(refresh.attributes['pipeline.indexes']).toContain(index);
  });

  it('gives an event of POST /v1/events the trace of its intake send, through to the indexer', async () => {
    await eventually(async () => ((await fetch(`${intake}/healthz`).catch(() => undefined)) ? true : undefined), 'intake listening');
    const event = { v: 1, op: 'u', source: { schema: 'public', table: upstream }, key: { id: '7' }, after: { id: '7', title: 'Solaris' }, lsn: '5', commitLsn: '5', txId: 5, ts: new Date().toISOString() };
    const res = await fetch(`${intake}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: JSON.stringify(event) });
    expect(res.status).toBe(200);
    const { send, searchable } = await eventually(async () => {
      const all = spans();
      const i = all.find((s) => s.name === 'ingest.intake');
      const c = i && all.find((s) => s.name === 'indexer.searchable' && s.traceId === i.traceId);
      return i && c ? { send: i, searchable: c } : undefined;
    }, 'spans of the intake send from ingest and the indexer', 30_000);
    expect([send.service, send.attributes['pipeline.events'], searchable.service, searchable.parentSpanId]).toEqual(['ingest', 1, 'indexer', send.spanId]);
  });
});
