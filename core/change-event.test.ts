import { assertChangeEvent, canonicalKey, decodeChangeEvent, documentId, eventProblems, type ChangeEvent } from './change-event';

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
