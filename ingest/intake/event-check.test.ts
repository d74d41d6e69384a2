import { checkLine, MAX_DEPTH, type CheckOptions } from './event-check';

const opts: CheckOptions = {
  topicPrefix: 'cdc',
  configured: new Set(['public.orders', 'public.books']),
  accepted: new Set(['public.orders']),
  maxEventBytes: 10_000,
};
const base = { v: 1, op: 'u', source: { schema: 'public', table: 'orders' }, key: { id: '7' }, after: { id: '7', total: '12.50' }, lsn: '100', commitLsn: '120', txId: 5, ts: '2026-11-23T09:00:00Z' };
const line = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('checkLine', () => {
  it('turns a valid event into its topic, canonical key, JSON value and version', () => {
    const r = checkLine(line({ ...base, key: { b: 2, a: 'x' }, after: { a: 'x', b: 2 } }), opts);
    expect(r).toEqual({ ok: true, event: { topic: 'cdc.public.orders', table: 'public.orders', key: '{"a":"x","b":2}', value: expect.any(String), commitLsn: '120', everyPartition: false } });
    if (r.ok) expect(JSON.parse(r.event.value)).toEqual({ ...base, key: { b: 2, a: 'x' }, after: { a: 'x', b: 2 } });
  });

  it('sends a truncate to every partition with an empty key', () => {
    const r = checkLine(line({ ...base, op: 't', key: {}, after: undefined }), opts);
    expect(r.ok && r.event).toMatchObject({ key: '', everyPartition: true });
  });

  it('lists every schema problem of the contract', () => {
    const r = checkLine(line({ ...base, op: 'x', lsn: 12, after: undefined, extra: true }), opts);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('EVENT_INVALID');
    expect(r.problems.join('\n')).toMatch(/\/op must be equal to one of the allowed values/);
    expect(r.problems.join('\n')).toMatch(/\/lsn must be string/);
    expect(r.problems.join('\n')).toMatch(/must NOT have additional properties/);
    expect(r.problems.join('\n')).not.toMatch(/must match "then" schema/);
  });

  it('refuses non-JSON and non-UTF-8 lines with what to fix', () => {
    expect(checkLine(line('{"v":1,'), opts)).toMatchObject({ ok: false, reason: 'NOT_JSON', problems: [expect.stringMatching(/^not JSON: .*one JSON event/)] });
    expect(checkLine(Buffer.from([0x7b, 0xff, 0x7d]), opts)).toMatchObject({ ok: false, reason: 'NOT_UTF8' });
  });

  it('refuses a table outside the pipeline config, naming the tables that take HTTP events', () => {
    const r = checkLine(line({ ...base, source: { schema: 'public', table: 'nope' } }), opts);
    expect(r).toMatchObject({ ok: false, reason: 'TABLE_NOT_ACCEPTED', table: undefined });
    if (!r.ok) expect(r.problems[0]).toMatch(/public\.nope is not in the pipeline config; tables that take events over HTTP: public\.orders/);
  });

  it('refuses a CDC-captured table: its versions are WAL positions, not the caller\'s', () => {
    const r = checkLine(line({ ...base, source: { schema: 'public', table: 'books' } }), opts);
    expect(r).toMatchObject({ ok: false, reason: 'TABLE_NOT_ACCEPTED', table: 'public.books' });
    if (!r.ok) expect(r.problems[0]).toMatch(/captured from Postgres.*one version space per table/);
  });

  it('refuses heartbeats, which only ingest emits', () => {
    expect(checkLine(line({ ...base, op: 'h', key: {}, after: undefined }), opts)).toMatchObject({ ok: false, reason: 'OP_NOT_ACCEPTED' });
  });

  it('refuses versions above what Elasticsearch stores (2^63 - 1)', () => {
    expect(checkLine(line({ ...base, commitLsn: '9223372036854775807' }), opts).ok).toBe(true);
    const r = checkLine(line({ ...base, commitLsn: '9223372036854775808' }), opts);
    expect(r).toMatchObject({ ok: false, reason: 'VERSION_TOO_LARGE', problems: [expect.stringMatching(/^\/commitLsn 9223372036854775808 is above/)] });
  });

  it('refuses integers beyond 2^53 as JSON numbers (they would change silently) and names where', () => {
    const r = checkLine(line('{"v":1,"op":"c","source":{"schema":"public","table":"orders"},"key":{"id":9007199254740993},"after":{"n":{"deep":[1,12345678901234567890]}},"lsn":"1","commitLsn":"1","txId":1,"ts":"x"}'), opts);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('UNSAFE_INTEGER');
    expect(r.problems.join('\n')).toMatch(/\/key\/id is an integer beyond ±2\^53.*send it as a string/);
    expect(r.problems.join('\n')).toMatch(/\/after\/n\/deep\/1 is an integer beyond/);
    expect(checkLine(line({ ...base, after: { big: '9007199254740993', n: 9007199254740991, f: 0.5 } }), opts).ok).toBe(true);
  });

  it('refuses nesting deeper than MAX_DEPTH without overflowing the stack', () => {
    const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    expect(checkLine(line({ ...base, after: JSON.parse(deep(MAX_DEPTH - 2)) }), opts).ok).toBe(true);
    const r = checkLine(line(`{"v":1,"op":"c","source":{"schema":"public","table":"orders"},"key":{"id":"1"},"after":${deep(100_000)},"lsn":"1","commitLsn":"1","txId":1,"ts":"x"}`), opts);
    expect(r).toMatchObject({ ok: false, reason: 'TOO_DEEP' });
  });

  it('refuses an event larger than the Kafka record limit', () => {
    const r = checkLine(line({ ...base, after: { blob: 'x'.repeat(10_000) } }), opts);
    expect(r).toMatchObject({ ok: false, reason: 'EVENT_TOO_LARGE', problems: [expect.stringMatching(/at most 10000 \(INGEST_HTTP_MAX_EVENT_BYTES\)/)] });
  });
});
