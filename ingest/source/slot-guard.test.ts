import { isRetriable } from '../../core/errors';
import { decideSlot, SlotLostError } from './slot-guard';

const healthy = { plugin: 'pgoutput', confirmedFlushLsn: '0/10', walStatus: 'reserved' };
const lost = { ...healthy, walStatus: 'lost' };

describe('decideSlot', () => {
  it('streams from a healthy slot and creates one on the first start', () => {
    expect(decideSlot('s', healthy, true, false)).toEqual({ action: 'use' });
    expect(decideSlot('s', undefined, false, false)).toEqual({ action: 'create', drop: false, reason: 'first start' });
  });

  it('refuses to replace a slot that vanished after the pipeline ran, with a message that says what was lost and how to re-snapshot', () => {
    let err: unknown;
    try {
      decideSlot('s', undefined, true, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlotLostError);
    expect(isRetriable(err)).toBe(false);
    expect((err as Error).message).toMatch(/replication slot s is missing although this pipeline ran before.*may be lost.*INGEST_RESNAPSHOT=1/);
  });

  it('refuses an invalidated slot, and with INGEST_RESNAPSHOT=1 drops and recreates it', () => {
    expect(() => decideSlot('s', lost, true, false)).toThrow(/invalidated.*max_slot_wal_keep_size.*INGEST_RESNAPSHOT=1: it drops the invalidated slot/);
    expect(decideSlot('s', lost, true, true)).toEqual({ action: 'create', drop: true, reason: 'resnapshot' });
    expect(decideSlot('s', undefined, true, true)).toEqual({ action: 'create', drop: false, reason: 'resnapshot' });
  });

  it('refuses a slot of another plugin', () => {
    expect(() => decideSlot('s', { ...healthy, plugin: 'wal2json' }, false, true)).toThrow(/uses plugin wal2json/);
  });
});
