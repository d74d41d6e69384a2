import type { ChangeEvent } from '../../core/change-event';
import { deadLetterRecord } from './dead-letter-record';

const event: ChangeEvent = { v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: 7 }, after: { id: 7, body: 'ééé' }, lsn: '10', commitLsn: '20', txId: 1, ts: 'now' };

describe('dead-letter record of an event that never reached its topic', () => {
  it('carries table, key, id, LSNs, reason and column sizes, never the row', () => {
    const { key, value } = deadLetterRecord({ event, topic: 'cdc.public.items', table: 'public.items', errorType: 'event_too_large', reason: 'too big' });
    const record = JSON.parse(value);
    expect(key).toBe('7');
    expect(record).toEqual({ stage: 'ingest', table: 'public.items', key: { id: 7 }, id: '7', lsn: '10', commitLsn: '20', topic: 'cdc.public.items', partition: -1, offset: '', errorType: 'event_too_large', reason: 'too big', payload: expect.any(String) });
    expect(JSON.parse(record.payload)).toEqual({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: 7 }, lsn: '10', commitLsn: '20', txId: 1, ts: 'now', columnBytes: { id: 1, body: 8 } });
  });

  it('is built for an invalid event missing its key, LSNs and source, or holding a BigInt', () => {
    const broken = { v: 1, op: 'u', after: 'not an object', big: 1n } as unknown as ChangeEvent;
    const { key, value } = deadLetterRecord({ event: broken, topic: '', table: 'unknown', errorType: 'event_invalid', reason: 'bad' });
    expect(key).toBe('');
    expect(JSON.parse(value)).toMatchObject({ stage: 'ingest', table: '', key: {}, id: '', lsn: '', commitLsn: '', topic: '', errorType: 'event_invalid', reason: 'bad', payload: '{"unserializable":true}' });
  });
});
