import type { BulkOp } from '../transform/to-bulk-ops';
import { WrittenRefs } from './written-refs';

const origin = { topic: 't', partition: 0, offset: '0' };
const doc = (id: string, refs: string[]): BulkOp => ({ action: 'index', index: 'i', id, version: '1', lsn: '1', origin, bytes: 1, doc: { _refs: refs } });
const ids = (r: WrittenRefs, ref: string) => [...r.holding('i', [ref]).ids].sort();

describe('WrittenRefs: the refs of unrefreshed writes', () => {
  it('is incomplete until a refresh it saw completes, then holds what was written after that refresh began', () => {
    const r = new WrittenRefs(1000);
    expect(r.holding('i', ['s.items:{"id":1}']).complete).toBe(false);
    const w = r.record('i', [doc('A', ['s.orders:{"id":"A"}', 's.items:{"id":1}'])]);
    r.acknowledged('i', w);
    const t = r.refreshing('i');
    // Acknowledged after the refresh began: the refresh may not show it.
    const w2 = r.record('i', [doc('B', ['s.items:{"id":1}'])]);
    r.acknowledged('i', w2);
    r.refreshed(t);
    expect(r.holding('i', []).complete).toBe(true);
    expect(ids(r, 's.items:{"id":1}')).toEqual(['B']);
    r.refreshed(r.refreshing('i'));
    expect(ids(r, 's.items:{"id":1}')).toEqual([]);
    expect(r.size('i')).toBe(0);
  });

  it('keeps a write in flight across refreshes until it is acknowledged', () => {
    const r = new WrittenRefs(1000);
    const w = r.record('i', [doc('A', ['s.items:{"id":1}'])]);
    r.refreshed(r.refreshing('i'));
    expect(ids(r, 's.items:{"id":1}')).toEqual(['A']);
    r.acknowledged('i', w);
    expect(ids(r, 's.items:{"id":1}')).toEqual(['A']); // acknowledged after that refresh began
    r.refreshed(r.refreshing('i'));
    expect(ids(r, 's.items:{"id":1}')).toEqual([]);
  });

  it('past its bound forgets acknowledged writes and is incomplete until a refresh begun after that', () => {
    const r = new WrittenRefs(3);
    r.refreshed(r.refreshing('i'));
    const before = r.refreshing('i'); // begun before the record overflows
    r.acknowledged('i', r.record('i', [doc('A', ['a', 'b']), doc('B', ['a', 'c'])]));
    expect(r.size('i')).toBe(0);
    expect(r.holding('i', ['a']).complete).toBe(false);
    r.refreshed(before);
    expect(r.holding('i', ['a']).complete).toBe(false);
    r.refreshed(r.refreshing('i'));
    expect(r.holding('i', ['a']).complete).toBe(true);
  });

  it('a rebalance (reset) makes it incomplete but keeps the writes in flight', () => {
    const r = new WrittenRefs(1000);
    r.refreshed(r.refreshing('i'));
    const inFlight = r.record('i', [doc('A', ['a'])]);
    r.acknowledged('i', r.record('i', [doc('B', ['a'])]));
    r.reset();
    expect(r.holding('i', ['a'])).toEqual({ ids: new Set(['A']), complete: false });
    r.acknowledged('i', inFlight);
  });

  it('skips deletes and the refs under the skipped prefix (the root table), and finds refs by prefix', () => {
    const r = new WrittenRefs(1000, () => 's.orders:');
    r.record('i', [doc('A', ['s.orders:{"id":"A"}', 's.items:{"id":1}', 's.tags:{"id":2}']), { action: 'delete', index: 'i', id: 'B', version: '1', lsn: '1', origin, bytes: 1 }]);
    expect(r.size('i')).toBe(2);
    expect([...r.holdingPrefix('i', 's.items:')]).toEqual(['A']);
    expect([...r.holdingPrefix('i', 's.orders:')]).toEqual([]);
  });

  it('settled waits for the reads in flight when called, not for later ones', async () => {
    const r = new WrittenRefs(1000);
    const release = r.reading('i');
    let settled = false;
    const p = r.settled('i').then(() => (settled = true));
    const later = r.reading('i');
    await Promise.resolve();
    expect(settled).toBe(false);
    release();
    await p;
    expect(settled).toBe(true);
    later();
  });

  it('lists the indexes with acknowledged writes a refresh would let go of', () => {
    const r = new WrittenRefs(1000);
    const w = r.record('i', [doc('A', ['a'])]);
    expect(r.pending()).toEqual([]);
    r.acknowledged('i', w);
    expect(r.pending()).toEqual(['i']);
  });
});
