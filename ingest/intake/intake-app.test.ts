import zlib from 'node:zlib';
import request from 'supertest';
import { decodeConsistencyToken } from '../../core/consistency-token';
import { intakeTestApp, orderEvent } from './testing';

const ndjson = (events: unknown[]): string => events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n';

describe('POST /v1/events', () => {
  it('accepts one JSON event, produces it, and answers with a token of its partition and commit LSN', async () => {
    const { app, publisher } = intakeTestApp();
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/json').send(JSON.stringify(orderEvent(7), null, 2));
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(publisher.events.map((e) => JSON.parse(e.value))).toEqual([orderEvent(7)]);
    expect(decodeConsistencyToken(res.body.consistencyToken)).toEqual([{ topic: 'cdc.public.orders', partition: '{"id":"7"}'.length % 3, lsn: 1007n }]);
  });

  it('accepts an NDJSON stream in batches, in order, with the highest LSN per partition in the token', async () => {
    const { app, publisher, registry } = intakeTestApp({ batchMaxEvents: 7 });
    const events = Array.from({ length: 50 }, (_, i) => orderEvent(i + 1));
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send(ndjson(events));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 50, consistencyToken: expect.stringMatching(/^ct1\./) });
    expect(publisher.batches.map((b) => b.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(await registry.getSingleMetricAsString('ingest_intake_events_total')).toMatch(/table="public.orders",outcome="accepted",reason=""} 50/);
    expect(await registry.getSingleMetricAsString('ingest_intake_produce_seconds')).toMatch(/ingest_intake_produce_seconds_count 8/);
    expect(await registry.getSingleMetricAsString('ingest_intake_requests_total')).toMatch(/status="200"} 1/);
    expect(publisher.events.map((e) => JSON.parse(e.value))).toEqual(events);
    const token = decodeConsistencyToken(res.body.consistencyToken);
    const expected = new Map<number, bigint>();
    for (const e of events) {
      const p = JSON.stringify((e as { key: unknown }).key).length % 3;
      expected.set(p, BigInt((e as { commitLsn: string }).commitLsn) > (expected.get(p) ?? 0n) ? BigInt((e as { commitLsn: string }).commitLsn) : expected.get(p)!);
    }
    expect(token).toEqual([...expected].sort(([a], [b]) => a - b).map(([partition, lsn]) => ({ topic: 'cdc.public.orders', partition, lsn })));
  });

  it('splits sends by bytes so no partition batch can pass the broker\'s record limit', async () => {
    const { app, publisher } = intakeTestApp({ maxEventBytes: 50_000 });
    const events = Array.from({ length: 10 }, (_, i) => orderEvent(i, { after: { id: String(i), blob: 'x'.repeat(20_000) } }));
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send(ndjson(events));
    expect(res.status).toBe(200);
    expect(publisher.batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
    for (const b of publisher.batches) expect(b.reduce((n, e) => n + e.value.length + e.key.length, 0)).toBeLessThanOrEqual(50_000);
  });

  it('writes nothing when one line is invalid, and lists each problem by line number', async () => {
    const { app, publisher, registry } = intakeTestApp();
    const lines = [orderEvent(1), orderEvent(2), '{not json', orderEvent(4, { op: 'zz' }), '', orderEvent(6)];
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send(ndjson(lines));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('EVENTS_INVALID');
    expect(res.body.error.message).toMatch(/^2 of 5 event\(s\) are invalid, so nothing was written.*line 3: not JSON.*line 4: \/op must be equal to one of the allowed values/);
    expect(res.body.error.details.lines).toEqual([
      { line: 3, reason: 'NOT_JSON', problems: [expect.stringMatching(/^not JSON/)] },
      { line: 4, reason: 'EVENT_INVALID', problems: ['/op must be equal to one of the allowed values'] },
    ]);
    expect(publisher.events).toEqual([]);
    const metrics = await registry.getSingleMetricAsString('ingest_intake_events_total');
    expect(metrics).toMatch(/table="public.orders",outcome="rejected",reason="REQUEST_REJECTED"} 3/);
    expect(metrics).toMatch(/table="public.orders",outcome="rejected",reason="EVENT_INVALID"} 1/);
  });

  it('with ?partial=true writes the valid lines and answers per line', async () => {
    const { app, publisher } = intakeTestApp();
    const lines = [orderEvent(1), '{not json', orderEvent(3), orderEvent(4, { source: { schema: 'public', table: 'books' } })];
    const res = await request(app.callback()).post('/v1/events?partial=true').set('content-type', 'application/x-ndjson').send(ndjson(lines));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, rejected: 2, linesTruncated: false });
    expect(res.body.lines.map((l: { line: number; reason: string }) => [l.line, l.reason])).toEqual([[2, 'NOT_JSON'], [4, 'TABLE_NOT_ACCEPTED']]);
    expect(publisher.events.map((e) => JSON.parse(e.value))).toEqual([orderEvent(1), orderEvent(3)]);
    expect(decodeConsistencyToken(res.body.consistencyToken).map((p) => p.lsn)).toEqual(expect.arrayContaining([1003n]));
  });

  it('refuses a table outside the pipeline config naming the ones it takes', async () => {
    const { app } = intakeTestApp();
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/json').send(orderEvent(1, { source: { schema: 'public', table: 'users' } }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/line 1: \/source table public\.users is not in the pipeline config; tables that take events over HTTP: public\.orders/);
  });

  it('answers 413 for a body over the limit, counted after gzip decoding, and writes nothing', async () => {
    const { app, publisher } = intakeTestApp({ maxBodyBytes: 10_000 });
    const big = ndjson(Array.from({ length: 200 }, (_, i) => orderEvent(i)));
    const plain = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send(big);
    expect(plain.status).toBe(413);
    expect(plain.body.error).toMatchObject({ code: 'BODY_TOO_LARGE', message: expect.stringMatching(/larger than 10000 bytes.*nothing was written/) });
    const bomb = zlib.gzipSync(Buffer.alloc(5_000_000, 0x20));
    const gz = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').set('content-encoding', 'gzip').send(bomb);
    expect(gz.status).toBe(413);
    expect(publisher.events).toEqual([]);
  });

  it('reads a gzip-encoded NDJSON body', async () => {
    const { app, publisher } = intakeTestApp();
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').set('content-encoding', 'gzip').send(zlib.gzipSync(ndjson([orderEvent(1), orderEvent(2)])));
    expect(res.status).toBe(200);
    expect(publisher.events).toHaveLength(2);
    const broken = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').set('content-encoding', 'gzip').send(Buffer.from('not gzip at all'));
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('BODY_UNREADABLE');
  });

  it('answers 415 for a wrong content type or encoding', async () => {
    const { app } = intakeTestApp();
    const text = await request(app.callback()).post('/v1/events').set('content-type', 'text/plain').send('hello');
    expect(text.status).toBe(415);
    expect(text.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringMatching(/application\/x-ndjson/) });
    const br = await request(app.callback()).post('/v1/events').set('content-type', 'application/json').set('content-encoding', 'br').send('{}');
    expect(br.status).toBe(415);
    expect(br.body.error.code).toBe('UNSUPPORTED_ENCODING');
  });

  it('answers 400 for an empty body and a bad partial parameter', async () => {
    const { app } = intakeTestApp();
    const empty = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send('\n\n');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('BODY_EMPTY');
    const param = await request(app.callback()).post('/v1/events?partial=yes').set('content-type', 'application/x-ndjson').send(ndjson([orderEvent(1)]));
    expect(param.status).toBe(400);
    expect(param.body.error.code).toBe('PARAM_INVALID');
  });

  it('answers 503 with Retry-After when Kafka does not acknowledge, saying what was written', async () => {
    const { app, publisher } = intakeTestApp({ batchMaxEvents: 2 });
    publisher.failAfterBatches = 1;
    const res = await request(app.callback()).post('/v1/events').set('content-type', 'application/x-ndjson').send(ndjson([1, 2, 3, 4].map((i) => orderEvent(i))));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error).toMatchObject({ code: 'KAFKA_UNAVAILABLE', message: expect.stringMatching(/2 of 4 events were acknowledged.*send the whole request again/) });
  });

  it('answers unknown routes and methods in the one error shape', async () => {
    const { app } = intakeTestApp();
    const get = await request(app.callback()).get('/v1/events');
    expect(get.status).toBe(405);
    expect(get.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const other = await request(app.callback()).post('/v2/things');
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('refuses at construction an INGEST_HTTP_TABLES entry the pipeline config lacks', () => {
    expect(() => intakeTestApp({ httpTables: ['public.orders', 'public.ghost'] })).toThrow(/INGEST_HTTP_TABLES names public\.ghost, which the pipeline config .* does not have/);
  });
});
