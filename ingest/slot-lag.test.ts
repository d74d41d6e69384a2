import { assessSample } from './slot-lag';
import { SlotLostError } from './source/slot-guard';

const t = { warnBytes: 1000, warnSeconds: 60 };

describe('slot lag assessment', () => {
  it('is quiet within the thresholds', () => {
    expect(assessSample('s', { exists: true, lagBytes: 10n, walStatus: 'reserved' }, 1, t)).toEqual({ warnings: [] });
  });
  it('warns above the byte and second thresholds, and when the slot is about to be invalidated', () => {
    const { warnings, fatal } = assessSample('s', { exists: true, lagBytes: 5000n, walStatus: 'unreserved' }, 120, t);
    expect(fatal).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/max_slot_wal_keep_size[\s\S]*5000 bytes behind[\s\S]*120 s ago/);
  });
  it('does not warn on seconds when heartbeats are off (a quiet database only looks behind)', () => {
    expect(assessSample('s', { exists: true, lagBytes: 0n, walStatus: 'reserved' }, 1e6, { ...t, warnSeconds: undefined }).warnings).toEqual([]);
  });
  it('stops loudly when the slot is invalidated or dropped while running', () => {
    expect(assessSample('s', { exists: true, lagBytes: 1n, walStatus: 'lost' }, 1, t).fatal).toBeInstanceOf(SlotLostError);
    const gone = assessSample('s', { exists: false, lagBytes: undefined, walStatus: null }, 1, t).fatal;
    expect(gone?.message).toMatch(/slot s was dropped while ingest was running.*INGEST_RESNAPSHOT=1/);
  });
});
