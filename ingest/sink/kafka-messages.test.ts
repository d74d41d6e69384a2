import type { ChangeEvent } from '../../core/change-event';
import { toTopicMessages } from './kafka-messages';

const base = { v: 1 as const, source: { schema: 'public', table: 'items' }, lsn: '10', commitLsn: '20', txId: 1, ts: 'now' };
const row: ChangeEvent = { ...base, op: 'u', key: { b: 2, a: 'x' }, after: { a: 'x', b: 2 } };
const hb: ChangeEvent = { ...base, op: 'h', key: {} };
const trunc: ChangeEvent = { ...base, op: 't', key: {} };

describe('events → Kafka messages', () => {
  const counts = (topic: string): number | undefined => (topic === 'cdc.public.items' ? 3 : undefined);

  it('keys row events by the canonical primary key and lets the partitioner place them', () => {
    const msgs = toTopicMessages([row], 'cdc', counts).get('cdc.public.items');
    expect(msgs).toEqual([{ key: '{"a":"x","b":2}', value: JSON.stringify(row) }]);
  });

  it('copies heartbeats and truncates to every partition, in stream order with row events', () => {
    const msgs = toTopicMessages([row, hb, trunc], 'cdc', counts).get('cdc.public.items')!;
    expect(msgs.map((m) => [JSON.parse(m.value).op, m.partition])).toEqual([['u', undefined], ['h', 0], ['h', 1], ['h', 2], ['t', 0], ['t', 1], ['t', 2]]);
    expect(msgs.filter((m) => m.partition !== undefined).every((m) => m.key === '')).toBe(true);
  });

  it('refuses to guess when the partition count of a topic is unknown (retriable: counts are re-read)', () => {
    expect(() => toTopicMessages([{ ...hb, source: { schema: 'public', table: 'other' } }], 'cdc', counts)).toThrow(/partition count of topic cdc.public.other is unknown/);
  });
});
