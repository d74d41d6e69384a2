import { fillMovedRow } from './moved-row';
import { toChangeEvents, type DecodedChange, type RelationInfo } from './to-change-events';

const relation: RelationInfo = { schema: 'public', name: 't', keyColumns: ['id'], columns: [{ name: 'id', typeOid: 23 }, { name: 'n', typeOid: 23 }, { name: 'big', typeOid: 25 }, { name: 'meta', typeOid: 3802 }] };
const tx = { xid: 7, commitLsn: '100', ts: '2026-01-01T00:00:00.000Z' };
const moved: DecodedChange = { tag: 'update', relation, key: { id: '1' }, old: null, new: { id: '2', n: '5', big: undefined, meta: undefined } };

describe('fillMovedRow', () => {
  it('reads the unchanged columns of a row whose key changed by its new key, converted like streamed values', async () => {
    const asked: unknown[] = [];
    const out = await fillMovedRow(moved, toChangeEvents(moved, '90', tx), async (r, key, cols) => {
      asked.push([r.name, key, cols]);
      return { big: 'x'.repeat(3), meta: '{"a":12345678901234567890}' };
    });
    expect(asked).toEqual([['t', { id: '2' }, ['big', 'meta']]]);
    expect(out.filled).toBe(2);
    expect(out.events.map((e) => [e.op, e.key])).toEqual([['d', { id: 1 }], ['u', { id: 2 }]]);
    expect(out.events[1]!.after).toEqual({ id: 2, n: 5, big: 'xxx', meta: { a: '12345678901234567890' } });
    expect(out.events[1]!.unchanged).toBeUndefined();
  });

  it('keeps the columns unchanged when the row is gone by now', async () => {
    const events = toChangeEvents(moved, '90', tx);
    const out = await fillMovedRow(moved, events, async () => undefined);
    expect(out).toEqual({ events, filled: 0, gone: true });
    expect(out.events[1]!.unchanged).toEqual(['big', 'meta']);
  });

  it('reads nothing for an update that keeps its key, or a moved row Postgres sent whole', async () => {
    const read = jest.fn();
    const same: DecodedChange = { ...moved, key: null, new: { id: '1', n: '5', big: undefined, meta: undefined } };
    expect((await fillMovedRow(same, toChangeEvents(same, '90', tx), read)).filled).toBe(0);
    const whole: DecodedChange = { ...moved, new: { id: '2', n: '5', big: 'b', meta: 'null' } };
    expect((await fillMovedRow(whole, toChangeEvents(whole, '90', tx), read)).filled).toBe(0);
    expect(read).not.toHaveBeenCalled();
  });

  it('keeps a column named __proto__ as data', async () => {
    const r: RelationInfo = { ...relation, columns: [{ name: 'id', typeOid: 23 }, { name: '__proto__', typeOid: 25 }] };
    const c: DecodedChange = { tag: 'update', relation: r, key: { id: '1' }, old: null, new: Object.defineProperty({ id: '2' }, '__proto__', { value: undefined, enumerable: true }) };
    const out = await fillMovedRow(c, toChangeEvents(c, '90', tx), async () => Object.defineProperty({}, '__proto__', { value: 'v', enumerable: true }));
    expect(Object.prototype.hasOwnProperty.call(out.events[1]!.after, '__proto__')).toBe(true);
    expect(JSON.stringify(out.events[1]!.after)).toBe('{"id":2,"__proto__":"v"}');
  });
});
