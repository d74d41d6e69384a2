import type { ChangeEvent } from '../../core/change-event';
import type { Refetch } from '../source/pg-messages';
import { RefetchWindows } from './refetch-windows';

const relation = { schema: 'public', name: 'items', keyColumns: ['id'], columns: [{ name: 'id', typeOid: 23 }, { name: 'title', typeOid: 25 }] };
const tx = { xid: 9, commitLsn: '900', ts: '2026-12-02T00:00:00.000Z' };
const change = (id: number, op: ChangeEvent['op'] = 'u'): ChangeEvent => ({ v: 1, op, source: { schema: 'public', table: 'items' }, key: op === 't' ? {} : { id }, lsn: '1', commitLsn: '2', txId: 1, ts: tx.ts });
const high = (id: string, keys: number[], rows: Array<[number, string]>): Refetch => ({ slot: 'mine', id, mark: 'high', relation, keys: keys.map((k) => ({ id: String(k) })), rows: rows.map(([k, t]) => ({ id: String(k), title: t })) });

describe('refetch windows', () => {
  it('publishes the rows read and deletes for keys not found, at the high mark\'s version, except keys the stream changed meanwhile', () => {
    const w = new RefetchWindows('mine');
    expect(w.onMark({ slot: 'mine', id: 'a', mark: 'low' }, tx, 800n)).toEqual([]);
    w.observe([change(2), { ...change(3), source: { schema: 'public', table: 'other' } }]);
    const events = w.onMark(high('a', [1, 2, 3], [[1, 'one'], [2, 'two']]), tx, 890n);
    expect(events).toEqual([
      { v: 1, op: 'r', source: { schema: 'public', table: 'items' }, key: { id: 1 }, after: { id: 1, title: 'one' }, lsn: '890', commitLsn: '900', txId: 9, ts: tx.ts },
      { v: 1, op: 'd', source: { schema: 'public', table: 'items' }, key: { id: 3 }, lsn: '890', commitLsn: '900', txId: 9, ts: tx.ts },
    ]);
  });

  it('ignores another slot\'s marks, a high without its low, and publishes nothing after a truncate in the window', () => {
    const w = new RefetchWindows('mine');
    expect(w.onMark({ ...high('x', [1], [[1, 'one']]), slot: 'theirs' }, tx, 1n)).toEqual([]);
    expect(w.onMark(high('never-opened', [1], [[1, 'one']]), tx, 1n)).toEqual([]);
    w.onMark({ slot: 'mine', id: 't', mark: 'low' }, tx, 1n);
    w.observe([change(0, 't')]);
    expect(w.onMark(high('t', [1], [[1, 'one']]), tx, 2n)).toEqual([]);
  });
});
