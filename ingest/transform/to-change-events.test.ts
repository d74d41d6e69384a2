import { convertPgText, isoTimestamp } from './pg-values';
import { toChangeEvents, withDocumentKey, type RelationInfo } from './to-change-events';

const rel: RelationInfo = {
  schema: 'public',
  name: 'items',
  keyColumns: ['id'],
  columns: [
    { name: 'id', typeOid: 20 }, // int8
    { name: 'title', typeOid: 25 },
    { name: 'price', typeOid: 1700 }, // numeric
    { name: 'at', typeOid: 1184 }, // timestamptz
    { name: 'body', typeOid: 25 },
  ],
};
const tx = { xid: 9, commitLsn: '9007199254740993', ts: '2026-11-23T00:00:00.000Z' };

describe('pgoutput change → change events', () => {
  it('keeps int8 and numeric exact and microseconds on timestamps', () => {
    const [e] = toChangeEvents({ tag: 'insert', relation: rel, new: { id: '9223372036854775807', title: 'a', price: '12345678901234567890.123', at: '2026-01-02 03:04:05.123456+00', body: null } }, '9007199254740990', tx);
    expect(e).toMatchObject({ op: 'c', key: { id: '9223372036854775807' }, commitLsn: '9007199254740993', lsn: '9007199254740990' });
    expect(e!.after).toEqual({ id: '9223372036854775807', title: 'a', price: '12345678901234567890.123', at: '2026-01-02T03:04:05.123456+00:00', body: null });
  });
  it('lists unchanged TOAST columns instead of writing a placeholder or null', () => {
    const [e] = toChangeEvents({ tag: 'update', relation: rel, key: null, old: null, new: { id: '1', title: 'b', price: '1', at: 'infinity', body: undefined } }, '10', tx);
    expect(e!.unchanged).toEqual(['body']);
    expect(e!.after).not.toHaveProperty('body');
    expect(e!.after!.at).toBe('infinity');
  });
  it('turns a primary-key update into a delete of the old key then the new row', () => {
    const events = toChangeEvents({ tag: 'update', relation: rel, key: { id: '1', title: null, price: null, at: null, body: null }, old: null, new: { id: '2', title: 'x', price: '0', at: null, body: null } }, '11', tx);
    expect(events.map((e) => [e.op, e.key])).toEqual([['d', { id: '1' }], ['u', { id: '2' }]]);
  });
  it('keys REPLICA IDENTITY FULL changes by the primary key, not by every column pgoutput flags', () => {
    const full: RelationInfo = { ...rel, replicaIdentity: 'full', keyColumns: rel.columns.map((c) => c.name) };
    const old = { id: '1', title: 'a', price: '1', at: null, body: 'b' };
    const change = withDocumentKey({ tag: 'update', relation: full, key: null, old, new: { ...old, title: 'changed' } }, (t) => (t === 'public.items' ? ['id'] : undefined));
    expect(toChangeEvents(change, '11', tx).map((e) => [e.op, e.key])).toEqual([['u', { id: '1' }]]);
    const moved = withDocumentKey({ tag: 'update', relation: full, key: null, old, new: { ...old, id: '2' } }, () => ['id']);
    expect(toChangeEvents(moved, '11', tx).map((e) => [e.op, e.key])).toEqual([['d', { id: '1' }], ['u', { id: '2' }]]);
  });
  it('keeps a column named __proto__ as data', () => {
    const odd: RelationInfo = { ...rel, columns: [{ name: 'id', typeOid: 23 }, { name: '__proto__', typeOid: 25 }] };
    const [e] = toChangeEvents({ tag: 'insert', relation: odd, new: Object.assign(Object.create(null) as Record<string, string>, { id: '1', ['__proto__']: 'x' }) }, '1', tx);
    expect(JSON.stringify(e!.after)).toBe('{"id":1,"__proto__":"x"}');
    expect(Object.getPrototypeOf(e!.after)).toBe(Object.prototype);
  });
  it('emits one truncate per relation', () => {
    const events = toChangeEvents({ tag: 'truncate', relations: [rel, { ...rel, name: 'other' }] }, '12', tx);
    expect(events.map((e) => [e.op, e.source.table])).toEqual([['t', 'items'], ['t', 'other']]);
  });
  it('refuses a table without a primary key with a message that says what to do', () => {
    expect(() => toChangeEvents({ tag: 'insert', relation: { ...rel, keyColumns: [] }, new: { id: '1' } }, '1', tx)).toThrow(/no primary key.*Add a primary key/);
  });
});

describe('pg values', () => {
  it('converts by type without losing precision', () => {
    expect(convertPgText('42', 23)).toBe(42);
    expect(convertPgText('t', 16)).toBe(true);
    expect(convertPgText('NaN', 701)).toBe('NaN');
    expect(convertPgText('123456789012345678901', 20)).toBe('123456789012345678901');
    expect(convertPgText('{"a":[1,2]}', 3802)).toEqual({ a: [1, 2] });
  });
  it('leaves BC dates and infinity as sent', () => {
    expect(isoTimestamp('0044-03-15 12:00:00+00 BC')).toBe('0044-03-15 12:00:00+00 BC');
    expect(isoTimestamp('-infinity')).toBe('-infinity');
    expect(isoTimestamp('2026-01-01 00:00:00+05:30')).toBe('2026-01-01T00:00:00+05:30');
  });
});
