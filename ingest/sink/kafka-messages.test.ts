import type { ChangeEvent } from '../../core/change-event';
import { partitionFor, planSends } from './kafka-messages';

const base = { v: 1 as const, source: { schema: 'public', table: 'items' }, lsn: '10', commitLsn: '20', txId: 1, ts: 'now' };
const row = (id: number, body = 'x'): ChangeEvent => ({ ...base, op: 'u', key: { id, b: 'k' }, after: { id, b: 'k', body } });
const hb: ChangeEvent = { ...base, op: 'h', key: {} };
const trunc: ChangeEvent = { ...base, op: 't', key: {} };
const layout = (maxMessageBytes?: number) => ({ partitions: (t: string) => (t === 'cdc.public.items' ? 3 : undefined), maxMessageBytes: () => maxMessageBytes });
const flat = (sends: ReturnType<typeof planSends>['sends']) => sends.flatMap((s) => s.get('cdc.public.items') ?? []);

describe('events → Kafka sends', () => {
  it('keys row events by the canonical primary key, on the partition the default partitioner picks', () => {
    const [msg] = flat(planSends([row(1)], 'cdc', layout()).sends);
    expect(msg).toEqual({ topic: 'cdc.public.items', key: '{"b":"k","id":1}', value: JSON.stringify(row(1)), partition: partitionFor('cdc.public.items', '{"b":"k","id":1}', 3), keyBytes: 16, valueBytes: Buffer.byteLength(JSON.stringify(row(1))) });
    // The Java-compatible murmur2 placement: the same key always lands on the same partition.
    expect(partitionFor('cdc.public.items', '{"id":"1"}', 3)).toBe(partitionFor('other', '{"id":"1"}', 3));
  });

  it('hands the encoder the exact UTF-8 byte lengths it measured, not character counts', () => {
    const multiByte: ChangeEvent = { ...base, op: 'u', key: { id: 'é✓𝄞' }, after: { id: 'é✓𝄞', body: 'ü'.repeat(100) } };
    const msgs = flat(planSends([multiByte, hb], 'cdc', layout()).sends);
    for (const m of msgs) {
      expect(m.keyBytes).toBe(Buffer.byteLength(m.key));
      expect(m.valueBytes).toBe(Buffer.byteLength(m.value));
    }
    expect(msgs[0]!.valueBytes).toBeGreaterThan(msgs[0]!.value.length);
  });

  it('copies heartbeats and truncates to every partition, in stream order with row events', () => {
    const msgs = flat(planSends([row(1), hb, trunc], 'cdc', layout()).sends);
    expect(msgs.map((m) => [JSON.parse(m.value.toString()).op, m.partition])).toEqual([['u', msgs[0]!.partition], ['h', 0], ['h', 1], ['h', 2], ['t', 0], ['t', 1], ['t', 2]]);
    expect(msgs.slice(1).every((m) => m.key === '')).toBe(true);
  });

  it('splits sends so no partition receives more than the topic accepts in one batch, keeping order', () => {
    const events = Array.from({ length: 60 }, (_, i) => row(i, 'y'.repeat(900)));
    const { sends, rejected } = planSends(events, 'cdc', layout(10_000));
    expect(rejected).toEqual([]);
    expect(sends.length).toBeGreaterThan(2);
    for (const send of sends) {
      const perPartition = new Map<number, number>();
      for (const m of send.get('cdc.public.items')!) perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + Buffer.byteLength(m.value) + m.key.length);
      for (const bytes of perPartition.values()) expect(bytes).toBeLessThan(10_000);
    }
    expect(flat(sends).map((m) => JSON.parse(m.value.toString()).key.id)).toEqual(events.map((e) => e.key.id));
  });

  it('keeps each send (one request per broker) under a total size, across partitions and topics, keeping order', () => {
    const events = Array.from({ length: 90 }, (_, i) => row(i, 'y'.repeat(900)));
    const { sends } = planSends(events, 'cdc', layout(), 10_000);
    expect(sends.length).toBeGreaterThan(8);
    for (const send of sends) expect(send.get('cdc.public.items')!.reduce((n, m) => n + Buffer.byteLength(m.value), 0)).toBeLessThan(10_000);
    expect(flat(sends).map((m) => JSON.parse(m.value.toString()).key.id)).toEqual(events.map((e) => e.key.id));
  });

  it('rejects an event that alone is above max.message.bytes, with the reason, and sends the rest', () => {
    const { sends, rejected } = planSends([row(1), row(2, 'z'.repeat(20_000)), row(3)], 'cdc', layout(10_000));
    expect(flat(sends).map((m) => JSON.parse(m.value.toString()).key.id)).toEqual([1, 3]);
    expect(rejected).toEqual([expect.objectContaining({ topic: 'cdc.public.items', errorType: 'event_too_large', reason: expect.stringMatching(/the event is \d+ bytes, above the 10000 bytes topic cdc.public.items accepts/) })]);
  });

  it('refuses to guess when the partition count of a topic is unknown (retriable: counts are re-read)', () => {
    expect(() => planSends([{ ...hb, source: { schema: 'public', table: 'other' } }], 'cdc', layout())).toThrow(/partition count of topic cdc.public.other is unknown/);
  });

  it('rejects an event that breaks the contract (a decoding bug) with the schema problems, and sends the rest', () => {
    const broken = { ...row(2), lsn: '0/1A', after: undefined } as unknown as ChangeEvent;
    const noSource = { ...row(4), source: undefined } as unknown as ChangeEvent;
    const { sends, rejected } = planSends([row(1), broken, noSource, row(3)], 'cdc', layout());
    expect(flat(sends).map((m) => JSON.parse(m.value.toString()).key.id)).toEqual([1, 3]);
    expect(rejected).toEqual([
      expect.objectContaining({ topic: 'cdc.public.items', table: 'public.items', errorType: 'event_invalid', reason: expect.stringMatching(/contract.*must have required property 'after'.*\/lsn must match pattern/) }),
      expect.objectContaining({ topic: '', table: 'unknown', errorType: 'event_invalid', reason: expect.stringContaining("must have required property 'source'") }),
    ]);
    expect(rejected[0]!.reason).not.toMatch(/must match "then" schema/);
  });
});
