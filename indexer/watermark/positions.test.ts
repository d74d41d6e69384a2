import { PositionTracker } from './positions';

describe('PositionTracker', () => {
  it('keeps the highest position per partition and forgets partitions no longer owned', () => {
    const t = new PositionTracker();
    t.record('a', 0, { lsn: 10n });
    t.record('a', 0, { lsn: 5n }); // a replay after a restart does not move it back
    t.record('a', 1, { lsn: 7n });
    t.retain({ a: [0] });
    expect([...t.take().positions.get('a')!].map(([p, pos]) => [p, pos.lsn])).toEqual([[0, 10n]]);
  });

  it('gives a partition a new data mark when a batch wrote documents, and keeps it across heartbeats', () => {
    const t = new PositionTracker();
    const mark = () => t.take().positions.get('a')!.get(0)!.dataMark;
    t.record('a', 0, { lsn: 10n }, ['books']);
    const first = mark();
    t.record('a', 0, { lsn: 11n }, []); // heartbeats
    t.record('a', 0, { lsn: 12n }, []);
    expect(mark()).toBe(first);
    expect(t.take().positions.get('a')!.get(0)!.lsn).toBe(12n);
    t.record('a', 0, { lsn: 12n }, ['books']); // the rest of a transaction split across batches: same LSN, new documents
    const second = mark();
    expect(second).not.toBe(first);
    t.record('a', 0, { lsn: 5n }, ['books']); // replayed writes below the position still count
    const third = mark();
    expect(third).not.toBe(second);
    t.record('a', 0, { lsn: 13n }); // a caller that does not say what it wrote
    expect(mark()).not.toBe(third);
  });

  it('starts a partition it newly owns with a mark never seen before, even on a heartbeat', () => {
    const a = new PositionTracker();
    const b = new PositionTracker(); // another process, or this one restarted
    a.record('a', 0, { lsn: 10n }, ['books']);
    b.record('a', 0, { lsn: 11n }, []);
    const [ma, mb] = [a, b].map((t) => t.take().positions.get('a')!.get(0)!.dataMark);
    expect(mb).toBeDefined();
    expect(mb).not.toBe(ma);
    // Lost and regained by the same process: a new mark as well.
    b.retain({});
    b.record('a', 0, { lsn: 12n }, []);
    expect(b.take().positions.get('a')!.get(0)!.dataMark).not.toBe(mb);
  });

  it('hands out the indexes to refresh once, and takes them back when the refresh failed', () => {
    const t = new PositionTracker();
    t.markWritten(['x', 'y']);
    const first = t.take();
    expect([...first.dirty]).toEqual(['x', 'y']);
    expect(t.take().dirty.size).toBe(0);
    t.restore(first);
    expect([...t.take().dirty]).toEqual(['x', 'y']);
  });
});

describe('PositionTracker: commits to measure', () => {
  it('takes one per batch at or above its partition\'s position, not replays below it, and takes them back when the refresh failed', () => {
    const t = new PositionTracker();
    t.record('a', 0, { lsn: 10n, commitTs: 'T10' }, ['books']);
    t.record('a', 0, { lsn: 10n, commitTs: 'T10' }, ['books']); // the rest of the same transaction
    t.record('a', 0, { lsn: 5n, commitTs: 'T5' }, ['books']); // a replay
    t.record('a', 1, { lsn: 11n, commitTs: 'T11' }, []); // a heartbeat
    t.record('a', 1, { lsn: 12n }); // no commit time: nothing to measure from
    const first = t.take();
    expect(first.commits).toEqual([{ topic: 'a', commitTs: 'T10' }, { topic: 'a', commitTs: 'T10' }, { topic: 'a', commitTs: 'T11' }]);
    t.record('a', 0, { lsn: 13n, commitTs: 'T13' });
    t.restore(first);
    expect(t.take().commits.map((c) => c.commitTs)).toEqual(['T10', 'T10', 'T11', 'T13']);
    expect(t.take().commits).toEqual([]);
  });
});
