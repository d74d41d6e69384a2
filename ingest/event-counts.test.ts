import type { ChangeEvent } from '../core/change-event';
import { countByTableAndOp } from './event-counts';

const base = { v: 1 as const, key: { id: 1 }, lsn: '1', commitLsn: '1', txId: 1, ts: 'now' };
describe('events per table and op', () => {
  it('counts shared and distinct source objects of one table together, and skips events without a source', () => {
    const shared = { schema: 'public', table: 'a' };
    const events = [
      { ...base, op: 'c', source: shared, after: {} },
      { ...base, op: 'c', source: shared, after: {} },
      { ...base, op: 'c', source: { schema: 'public', table: 'a' }, after: {} },
      { ...base, op: 'd', source: shared },
      { ...base, op: 'u', source: { schema: 'public', table: 'b' }, after: {} },
      { ...base, op: 'u', source: undefined },
    ] as unknown as ChangeEvent[];
    expect(countByTableAndOp(events)).toEqual([
      { labels: { table: 'public.a', op: 'c' }, n: 3 },
      { labels: { table: 'public.a', op: 'd' }, n: 1 },
      { labels: { table: 'public.b', op: 'u' }, n: 1 },
    ]);
  });
});
