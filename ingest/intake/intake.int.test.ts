import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { loadIngestConfig } from '../../config';
import { parsePipelineConfig, type PipelineConfig } from '../../config/pipeline';
import { canonicalKey, type ChangeEvent } from '../../core/change-event';
import { decodeConsistencyToken, type TokenPosition } from '../../core/consistency-token';
import { createKafka, ensureTopics } from '../../core/kafka';
import { silentLogger } from '../../core/logger';
import { kafka, readTopic, uniqueName } from '../../e2e/support/services';
import { createIntakeApp } from './intake-app';
import { createIntakeMetrics } from './intake-metrics';
import { startIntakeServer, type IntakeServer } from './intake-server';
import { KafkaIntakePublisher } from './kafka-intake-publisher';

/** Real Kafka: what POST /v1/events answers is exactly what the topic holds afterwards. */
const PARTITIONS = 3;

interface Fixture {
  url: string;
  table: string;
  topic: string;
  close(): Promise<void>;
}

const event = (table: string, id: number | string, lsn: number | bigint, after: Record<string, unknown> = {}): ChangeEvent => ({
  v: 1, op: 'u', source: { schema: 'public', table }, key: { id: String(id) }, after: { id: String(id), title: `item ${id}`, ...after },
  lsn: String(lsn), commitLsn: String(lsn), txId: Number(lsn), ts: '2026-11-23T09:00:00.000Z',
});

function pipelineFor(table: string): PipelineConfig {
  return parsePipelineConfig(JSON.stringify({ version: 1, indexes: { [table.replace(/_/g, '-')]: { table: `public.${table}`, fields: { title: { type: 'text', searchable: true } } } } }));
}

/** A fresh table topic and an intake app over it, listening on a free port; a small spool so big requests go through the temporary file. */
async function fixture(): Promise<Fixture> {
  const table = uniqueName('upstream');
  const prefix = uniqueName('intake');
  const topic = `${prefix}.public.${table}`;
  const k = createKafka(process.env.KAFKA_BROKERS!.split(','), 'intake-test', silentLogger);
  await ensureTopics(k, [topic], PARTITIONS);
  const publisher = new KafkaIntakePublisher(k, [topic]);
  await publisher.connect();
  const app = createIntakeApp({
    pipeline: pipelineFor(table), topicPrefix: prefix, httpTables: [`public.${table}`], publisher, auth: { mode: 'off' }, metrics: createIntakeMetrics(new Registry()), log: silentLogger,
    maxBodyBytes: 64 * 1024 ** 2, maxEventBytes: 1_000_000, batchMaxEvents: 500, spoolMemoryBytes: 64 * 1024,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    table,
    topic,
    close: async () => {
      await new Promise((r) => server.close(r));
      await publisher.close();
    },
  };
}

/** Streams the lines as a chunked body, a few hundred per write, so the server reads while the client still sends. */
function post(url: string, lines: string[], opts: { query?: string; contentType?: string } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/events${opts.query ?? ''}`, { method: 'POST', headers: { 'content-type': opts.contentType ?? 'application/x-ndjson' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()) })).on('error', reject);
    });
    req.on('error', reject);
    for (let i = 0; i < lines.length; i += 250) req.write(lines.slice(i, i + 250).map((l) => l + '\n').join(''));
    req.end();
  });
}

async function offsetsTotal(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads exactly `count` messages and checks the topic holds no more. */
async function topicMessages(topic: string, count: number) {
  const msgs = await readTopic(kafka(), topic, count, 60_000);
  expect(await offsetsTotal(topic)).toBe(count);
  return msgs;
}

/** The token every read-back set of messages implies: the highest commit LSN per partition. */
function positionsOf(topic: string, msgs: Array<{ value: string; partition: number }>): TokenPosition[] {
  const best = new Map<number, bigint>();
  for (const m of msgs) {
    const lsn = BigInt((JSON.parse(m.value) as ChangeEvent).commitLsn);
    if (lsn > (best.get(m.partition) ?? -1n)) best.set(m.partition, lsn);
  }
  return [...best].sort(([a], [b]) => a - b).map(([partition, lsn]) => ({ topic, partition, lsn }));
}

describe('POST /v1/events against Kafka', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.close();
  });

  it('produces one JSON event keyed canonically, and the token names its partition and commit LSN', async () => {
    const e = event(f.table, 42, 9_007_199_254_740_993n); // a version above 2^53 stays exact
    const res = await post(f.url, [JSON.stringify(e, null, 2)], { contentType: 'application/json' });
    expect(res).toEqual({ status: 200, body: { accepted: 1, consistencyToken: expect.stringMatching(/^ct1\./) } });
    const [msg] = await topicMessages(f.topic, 1);
    expect(msg!.key).toBe(canonicalKey(e.key));
    expect(JSON.parse(msg!.value)).toEqual(e);
    expect(decodeConsistencyToken(res.body.consistencyToken)).toEqual([{ topic: f.topic, partition: msg!.partition, lsn: 9_007_199_254_740_993n }]);
  });

  it('streams 5,000 NDJSON lines to the topic exactly, in order per key, with the token of the highest LSN per partition', async () => {
    // 1,000 rows, each updated five times with growing versions, interleaved.
    const events = Array.from({ length: 5000 }, (_, i) => event(f.table, i % 1000, 10_000 + i, { n: i, text: 'é'.repeat(i % 50) }));
    const res = await post(f.url, events.map((e) => JSON.stringify(e)));
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(5000);

    const msgs = await topicMessages(f.topic, 5000);
    const byOffset = [...msgs].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    expect(new Set(msgs.map((m) => m.partition)).size).toBe(PARTITIONS);
    const read = byOffset.map((m) => JSON.parse(m.value) as ChangeEvent);
    expect([...read].sort((a, b) => Number(a.commitLsn) - Number(b.commitLsn))).toEqual(events);
    for (const m of msgs) expect(m.key).toBe(canonicalKey((JSON.parse(m.value) as ChangeEvent).key));
    // Each key's versions arrive in the order sent.
    const lastByKey = new Map<string, bigint>();
    for (const e of read) {
      const had = lastByKey.get(e.key.id as string) ?? -1n;
      expect(BigInt(e.commitLsn)).toBeGreaterThan(had);
      lastByKey.set(e.key.id as string, BigInt(e.commitLsn));
    }
    expect(decodeConsistencyToken(res.body.consistencyToken)).toEqual(positionsOf(f.topic, msgs));
  });

  it('writes nothing of a stream with a bad line at 3,001, and says which line', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify(event(f.table, i, 100 + i)));
    lines[3000] = JSON.stringify({ ...event(f.table, 3000, 3100), commitLsn: 'yesterday' });
    const res = await post(f.url, lines);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('EVENTS_INVALID');
    expect(res.body.error.message).toMatch(/1 of 4000 event\(s\) are invalid, so nothing was written.*line 3001: \/commitLsn must match pattern/);
    expect(res.body.error.details.lines).toEqual([{ line: 3001, reason: 'EVENT_INVALID', problems: [expect.stringMatching(/^\/commitLsn/)] }]);
    expect(await offsetsTotal(f.topic)).toBe(0);
  });

  it('with ?partial=true writes exactly the valid lines and reports the others by line', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(event(f.table, i, 100 + i)));
    lines[10] = 'not json';
    lines[500] = JSON.stringify({ ...event(f.table, 500, 600), source: { schema: 'public', table: 'elsewhere' } });
    const res = await post(f.url, lines, { query: '?partial=true' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 998, rejected: 2 });
    expect(res.body.lines.map((l: { line: number; reason: string }) => [l.line, l.reason])).toEqual([[11, 'NOT_JSON'], [501, 'TABLE_NOT_ACCEPTED']]);
    const msgs = await topicMessages(f.topic, 998);
    const ids = msgs.map((m) => Number((JSON.parse(m.value) as ChangeEvent).key.id)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i).filter((i) => i !== 10 && i !== 500));
    expect(decodeConsistencyToken(res.body.consistencyToken)).toEqual(positionsOf(f.topic, msgs));
  });

  it('sends a truncate to every partition', async () => {
    const t: ChangeEvent = { v: 1, op: 't', source: { schema: 'public', table: f.table }, key: {}, lsn: '500', commitLsn: '500', txId: 9, ts: '2026-11-23T09:00:00.000Z' };
    const res = await post(f.url, [JSON.stringify(t)]);
    expect(res.status).toBe(200);
    const msgs = await topicMessages(f.topic, PARTITIONS);
    expect(msgs.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
    expect(decodeConsistencyToken(res.body.consistencyToken)).toEqual([0, 1, 2].map((partition) => ({ topic: f.topic, partition, lsn: 500n })));
  });
});

/**
 * docs/reliability.md, "Bad events the ingest path survives", as they can arrive over HTTP: each is
 * carried exactly (the Kafka value is byte for byte the line sent) or refused with its reason.
 */
describe('bad events over HTTP', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(async () => {
    await f.close();
  });

  it('carries each exactly or rejects it with a clear reason, and the rest of the stream flows', async () => {
    const e = (id: string, lsn: number, over: Partial<ChangeEvent> & Record<string, unknown> = {}): ChangeEvent => ({ ...event(f.table, id, lsn), ...over });
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const raw = (id: string, after: string): string => `{"v":1,"op":"u","source":{"schema":"public","table":"${f.table}"},"key":{"id":"${id}"},"after":${after},"lsn":"1","commitLsn":"1","txId":1,"ts":"2026-11-23T09:00:00.000Z"}`;
    const cases: Array<[what: string, line: string, outcome: 'carried' | string]> = [
      ['integers above 2^53 as strings', JSON.stringify(e('big', 1, { key: { id: '9007199254740993' }, after: { id: '9007199254740993', n: '-123456789012345678901234567890' } })), 'carried'],
      ['an integer above 2^53 as a JSON number', raw('bignum', '{"n":9007199254740993}'), 'UNSAFE_INTEGER'],
      ['NUMERIC NaN and ±Infinity (as Postgres prints them)', JSON.stringify(e('nan', 2, { after: { a: 'NaN', b: 'Infinity', c: '-Infinity' } })), 'carried'],
      ['a bare NaN token', raw('nantoken', '{"n":NaN}'), 'NOT_JSON'],
      ['timestamps infinity and BC', JSON.stringify(e('ts', 3, { after: { a: 'infinity', b: '-infinity', c: '0044-03-15 12:00:00+00 BC' } })), 'carried'],
      ['a keyword longer than 32,766 bytes', JSON.stringify(e('long', 4, { after: { k: 'é'.repeat(40_000) } })), 'carried'],
      ['JSON nested 50 deep', raw('nest50', deep(50)), 'carried'],
      ['JSON nested 10,000 deep', raw('nest10k', deep(10_000)), 'TOO_DEEP'],
      ['thousands of keys', JSON.stringify(e('wide', 5, { after: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])) })), 'carried'],
      ['dotted and empty keys', JSON.stringify(e('dots', 6, { after: { 'a.b': 1, '': 'empty', a: { b: 2 }, '.': '.' } })), 'carried'],
      ['a field literally named _id, and __proto__', raw('idfield', '{"_id":"not the id","__proto__":{"polluted":true},"constructor":"x"}'), 'carried'],
      ['a primary-key update: delete of the old key', JSON.stringify(e('old-key', 7, { op: 'd', after: undefined })), 'carried'],
      ['a primary-key update: the new key', JSON.stringify(e('new-key', 7)), 'carried'],
      ['a table without a primary key (empty key)', JSON.stringify(e('nokey', 8, { key: {} })), 'EVENT_INVALID'],
      ['a generated column', JSON.stringify(e('gen', 9, { after: { id: 'gen', price: '10', price_with_tax: '12.00' } })), 'carried'],
      ['a duplicate (1)', JSON.stringify(e('dup', 10)), 'carried'],
      ['a duplicate (2)', JSON.stringify(e('dup', 10)), 'carried'],
      ['a newer version', JSON.stringify(e('order', 20, { after: { v: 'newer' } })), 'carried'],
      ['an older version after it', JSON.stringify(e('order', 11, { after: { v: 'older' } })), 'carried'],
      ['a delete of a document that never existed', JSON.stringify(e('never', 12, { op: 'd', after: undefined })), 'carried'],
      ['NUL bytes and a lone surrogate', raw('odd', '{"s":"a\\u0000b","t":"\\ud800"}'), 'carried'],
      ['a non-JSON payload', 'this is not json', 'NOT_JSON'],
      ['bytes that are not UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('latin1'), 'NOT_UTF8'],
      ['an event of 900 KB (under the broker limit)', JSON.stringify(e('900k', 13, { after: { blob: 'x'.repeat(900_000) } })), 'carried'],
      ['an event over the broker size limit', JSON.stringify(e('2mb', 14, { after: { blob: 'x'.repeat(1_100_000) } })), 'EVENT_TOO_LARGE'],
    ];
    const body = Buffer.concat(cases.map(([, line]) => Buffer.concat([Buffer.from(line, line.startsWith('{\u00c3') ? 'latin1' : 'utf8'), Buffer.from('\n')])));
    const res = await postRaw(f.url, body, '?partial=true');
    expect(res.status).toBe(200);

    const expectedRejects = cases.flatMap(([what, , outcome], i) => (outcome === 'carried' ? [] : [[i + 1, outcome, what]]));
    expect(res.body.lines.map((l: { line: number; reason: string }, i: number) => [l.line, l.reason, expectedRejects[i]?.[2]])).toEqual(expectedRejects);
    for (const l of res.body.lines as Array<{ problems: string[] }>) expect(l.problems.join(' ')).toMatch(/send|must|not|at most|nested/);

    const carried = cases.filter(([, , outcome]) => outcome === 'carried');
    expect(res.body.accepted).toBe(carried.length);
    const msgs = await topicMessages(f.topic, carried.length);
    expect(msgs.map((m) => m.value).sort()).toEqual(carried.map(([, line]) => line).sort());
    // Two versions of one key stay in the order sent, whatever their versions: the indexer's external_gte decides.
    const order = msgs.filter((m) => m.key === '{"id":"order"}').sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(order.map((m) => (JSON.parse(m.value) as ChangeEvent).commitLsn)).toEqual(['20', '11']);
  });
});

function postRaw(url: string, body: Buffer, query = ''): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/events${query}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()) })).on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('when Kafka cannot take the events', () => {
  it('answers 503 with Retry-After and writes nothing (the table topic does not exist)', async () => {
    const table = uniqueName('upstream');
    const prefix = uniqueName('intake');
    const k = createKafka(process.env.KAFKA_BROKERS!.split(','), 'intake-test', silentLogger);
    const publisher = new KafkaIntakePublisher(k, [`${prefix}.public.${table}`]);
    await publisher.connect();
    const app = createIntakeApp({ pipeline: pipelineFor(table), topicPrefix: prefix, httpTables: [`public.${table}`], publisher, auth: { mode: 'off' }, metrics: createIntakeMetrics(new Registry()), log: silentLogger, maxBodyBytes: 1_000_000, maxEventBytes: 1_000_000, batchMaxEvents: 100 });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await new Promise<{ status: number; retryAfter?: string; body: any }>((resolve, reject) => {
        const req = http.request(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve({ status: r.statusCode!, retryAfter: r.headers['retry-after'], body: JSON.parse(Buffer.concat(parts).toString()) }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(event(table, 1, 1)));
      });
      expect(res).toMatchObject({ status: 503, retryAfter: '5', body: { error: { code: 'KAFKA_UNAVAILABLE', message: expect.stringMatching(/nothing was written; send the whole request again later/) } } });
    } finally {
      await new Promise((r) => server.close(r));
      await publisher.close();
    }
  });
});

describe('the intake server from the ingest config', () => {
  it('listens on INGEST_HTTP_PORT and takes only the INGEST_HTTP_TABLES tables', async () => {
    const table = uniqueName('upstream');
    const prefix = uniqueName('intake');
    const topic = `${prefix}.public.${table}`;
    const k = createKafka(process.env.KAFKA_BROKERS!.split(','), 'intake-test', silentLogger);
    await ensureTopics(k, [topic], PARTITIONS);
    const port = await freePort();
    const config = loadIngestConfig({ ...process.env, TOPIC_PREFIX: prefix, INGEST_HTTP_PORT: String(port), INGEST_HTTP_TABLES: `public.${table}` });
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
      a: { table: `public.${table}`, fields: { title: { type: 'text', searchable: true } } },
      b: { table: 'public.captured', fields: { title: { type: 'text', searchable: true } } },
    } }));
    const server: IntakeServer | undefined = await startIntakeServer({ config, auth: { mode: 'off' }, pipeline, kafka: k, registry: new Registry(), log: silentLogger });
    try {
      expect(server?.url).toBe(`http://127.0.0.1:${port}`);
      const ok = await post(server!.url, [JSON.stringify(event(table, 1, 5))]);
      expect(ok.status).toBe(200);
      const cdc = await post(server!.url, [JSON.stringify(event('captured', 1, 5))]);
      expect(cdc.status).toBe(400);
      expect(cdc.body.error.message).toMatch(/public\.captured is captured from Postgres/);
      expect(await topicMessages(topic, 1)).toHaveLength(1);
    } finally {
      await server?.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
