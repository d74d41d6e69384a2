import { PositionTracker } from './positions';

describe('PositionTracker', () => {
  it('keeps the highest position per partition and forgets partitions no longer owned', () => {
    const t = new PositionTracker();
    t.record('a', 0, { lsn: 10n });
    t.record('a', 0, { lsn: 5n }); // a replay after a restart does not move it back
    t.record('a', 1, { lsn: 7n });
    t.retain({ a: [0] });
    expect([...t.take().positions.get('a')!]).toEqual([[0, { lsn: 10n }]]);
  });

  it('hands out the indexes to refresh once, and takes them back when the refresh failed', () => {
    const t = new PositionTracker();
    t.markWritten(['x', 'y']);
    const first = t.take();
    expect([...first.dirty]).toEqual(['x', 'y']);
    expect(t.take().dirty.size).toBe(0);
    t.restoreDirty(first.dirty);
    expect([...t.take().dirty]).toEqual(['x', 'y']);
  });
});
