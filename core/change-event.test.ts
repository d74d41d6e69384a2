import Ajv from 'ajv';
import { assertChangeEvent, canonicalKey, changeEventSchema, decodeChangeEvent, documentId, eventProblems, isValidChangeEvent, type ChangeEvent } from './change-event';

const base: ChangeEvent = { v: 1, op: 'c', source: { schema: 'public', table: 't' }, key: { id: 1 }, after: { id: 1 }, lsn: '100', commitLsn: '120', txId: 7, ts: '2026-01-01T00:00:00Z' };

describe('change event contract', () => {
  it('accepts a valid event and an LSN above 2^53', () => {
    expect(assertChangeEvent({ ...base, commitLsn: '18446744073709551000' })).toBeTruthy();
  });
  it('lists every problem', () => {
    const problems = eventProblems({ ...base, op: 'x', lsn: 12 });
    expect(problems.some((p) => p.includes('/op'))).toBe(true);
    expect(problems.some((p) => p.includes('/lsn'))).toBe(true);
  });
  it('requires after on create and forbids it on delete', () => {
    const { after: _after, ...noAfter } = base;
    expect(eventProblems(noAfter).length).toBeGreaterThan(0);
    expect(eventProblems({ ...base, op: 'd' }).length).toBeGreaterThan(0);
    expect(eventProblems({ ...noAfter, op: 'd' })).toEqual([]);
  });
  it('rejects a delete without a key', () => {
    const { after: _after, ...noAfter } = base;
    expect(eventProblems({ ...noAfter, op: 'd', key: {} }).length).toBeGreaterThan(0);
  });
  it('reports non-JSON payloads clearly', () => {
    expect(() => decodeChangeEvent('{oops')).toThrow(/not JSON/);
  });
  it('serialises keys canonically whatever the column order', () => {
    expect(canonicalKey({ b: 2, a: 'x' })).toBe(canonicalKey({ a: 'x', b: 2 }));
    expect(documentId({ id: 42 })).toBe('42');
    expect(documentId({ b: 2, a: 'x' })).toBe('{"a":"x","b":2}');
  });
  it('writes a one-column key exactly as JSON.stringify writes the key object (its partition depends on it)', () => {
    const protoKey = Object.defineProperty({}, '__proto__', { value: 'p', enumerable: true }) as Record<string, string>;
    for (const key of [{ id: 42 }, { id: '42' }, { id: true }, { id: -0.5 }, { 'c "q"': 'say "hi"\n\u2028é😀' }, { '': '' }, protoKey]) {
      expect(canonicalKey(key)).toBe(JSON.stringify(key));
    }
    expect(canonicalKey(protoKey)).toBe('{"__proto__":"p"}');
  });
});

describe('heartbeats and truncates', () => {
  const hb = { v: 1, op: 'h', source: { schema: 'public', table: 't' }, key: {}, lsn: '5', commitLsn: '5', txId: 0, ts: 'now' };
  it('accepts a heartbeat with an empty key and refuses one with a key or a row', () => {
    expect(eventProblems(hb)).toEqual([]);
    expect(eventProblems({ ...hb, key: { id: 1 } }).length).toBeGreaterThan(0);
    expect(eventProblems({ ...hb, after: {} }).length).toBeGreaterThan(0);
  });
});

describe('the hand-written check (the fast path before Ajv)', () => {
  const ajv = new Ajv({ allErrors: true, strict: false }).compile(changeEventSchema);
  const row: Record<string, unknown> = { v: 1, op: 'u', source: { schema: 'public', table: 't' }, key: { id: '7', n: 2, b: true }, after: { id: '7', body: null }, unchanged: ['body'], lsn: '0', commitLsn: '18446744073709551615', txId: 0, ts: 'x' };
  const { after: _after, unchanged: _unchanged, ...noRow } = row;
  const valid: unknown[] = [
    row,
    ...(['c', 'r'] as const).map((op) => ({ ...row, op })),
    { ...noRow, op: 'd' },
    ...(['t', 'h'] as const).map((op) => ({ ...noRow, op, key: {} })),
    { ...row, unchanged: [] },
  ];
  // One change from a valid event each: every rule of the schema broken once.
  const mutations: Array<(e: Record<string, unknown>) => unknown> = [
    (e) => ({ ...e, v: 2 }), (e) => ({ ...e, v: '1' }), (e) => ({ ...e, op: 'x' }), (e) => ({ ...e, op: undefined }),
    (e) => ({ ...e, extra: 1 }), (e) => ({ ...e, source: { schema: 'public' } }), (e) => ({ ...e, source: { schema: '', table: 't' } }),
    (e) => ({ ...e, source: { schema: 'p', table: 't', x: 1 } }), (e) => ({ ...e, source: ['p', 't'] }), (e) => ({ ...e, source: null }),
    (e) => ({ ...e, key: [] }), (e) => ({ ...e, key: null }), (e) => ({ ...e, key: { id: null } }), (e) => ({ ...e, key: { id: {} } }),
    (e) => ({ ...e, key: {} }), (e) => ({ ...e, key: { id: 1 } }), (e) => ({ ...e, after: [] }), (e) => ({ ...e, after: null }),
    (e) => ({ ...e, after: {} }), (e) => ({ ...e, after: undefined }), (e) => ({ ...e, unchanged: 'body' }), (e) => ({ ...e, unchanged: [1] }),
    (e) => ({ ...e, lsn: 5 }), (e) => ({ ...e, lsn: '05' }), (e) => ({ ...e, lsn: '123456789012345678901' }), (e) => ({ ...e, commitLsn: '-1' }),
    (e) => ({ ...e, commitLsn: undefined }), (e) => ({ ...e, txId: -1 }), (e) => ({ ...e, txId: 1.5 }), (e) => ({ ...e, txId: '1' }),
    (e) => ({ ...e, ts: '' }), (e) => ({ ...e, ts: 5 }), (e) => ({ ...e, ts: undefined }), () => null, () => [], () => 'event',
    (e) => Object.assign(Object.create({ inherited: 1 }) as object, e),
    (e) => JSON.parse(JSON.stringify(e).replace('{', '{"__proto__":{"x":1},')),
  ];
  it('takes every valid event itself, so Ajv runs only for the invalid ones', () => {
    for (const e of valid) {
      expect(ajv(e)).toBe(true);
      expect(isValidChangeEvent(e)).toBe(true);
    }
  });
  it('never takes an event the schema refuses', () => {
    let refused = 0;
    for (const e of valid) {
      for (const mutate of mutations) {
        const m = mutate(e as Record<string, unknown>);
        if (isValidChangeEvent(m)) expect(ajv(m)).toBe(true);
        if (!ajv(m)) refused++;
      }
    }
    expect(refused).toBeGreaterThan(valid.length * mutations.length * 0.7);
  });
});
