import pLimit from 'p-limit';
import { parsePipelineConfig } from '../config/pipeline';
import type { ChangeEvent } from '../core/change-event';
import { processBatch } from './batch-processor';
import type { DeadLetterRecord } from './dead-letters';
import type { DeadLetter, DocumentSink } from './sink/es-document-sink';
import type { BulkOp } from './transform/to-bulk-ops';

const cfg = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: { title: { type: 'text', searchable: true } } } } }));
const msg = (offset: number, e: Partial<ChangeEvent> | string) => ({
  offset: String(offset),
  value: Buffer.from(typeof e === 'string' ? e : JSON.stringify({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: offset }, after: { title: `t${offset}` }, lsn: '1', commitLsn: '1', txId: 1, ts: 'now', ...e })),
});

class RecordingSink implements DocumentSink {
  writes: BulkOp[][] = [];
  constructor(private readonly poison = new Set<string>()) {}
  async write(ops: readonly BulkOp[]): Promise<DeadLetter[]> {
    this.writes.push([...ops]);
    return ops.filter((o) => this.poison.has(o.id)).map((op) => ({ op, errorType: 'document_parsing_exception', reason: 'bad value' }));
  }
}

describe('processBatch', () => {
  it('chunks, dead-letters exactly the poison and invalid messages, with their origin', async () => {
    const sink = new RecordingSink(new Set(['3']));
    const parked: DeadLetterRecord[] = [];
    const messages = [msg(1, {}), msg(2, {}), msg(3, {}), msg(4, 'not json'), msg(5, {})];
    const r = await processBatch('topic-a', 2, messages, { indexes: cfg.indexes, sink, deadLetters: async (d) => void parked.push(...d), truncate: async () => [], maxDocsPerBulk: 2, limit: pLimit(2), keepAlive: async () => undefined });
    expect(sink.writes.map((w) => w.map((o) => o.id))).toEqual([['1', '2'], ['3', '5']]);
    expect(r).toMatchObject({ ops: 4, deadLetters: 2, written: new Set(['items']) });
    expect(parked.map((p) => [p.offset, p.errorType])).toEqual([['4', 'invalid_event'], ['3', 'document_parsing_exception']]);
    expect(parked[1]).toMatchObject({ topic: 'topic-a', partition: 2, index: 'items', id: '3', commitLsn: '1' });
  });

  it('drops what precedes a truncate, writes what follows after it, and reports the highest commit LSN', async () => {
    const sink = new RecordingSink();
    const log: string[] = [];
    const recording: DocumentSink = { write: async (ops) => { log.push(`write ${ops.map((o) => o.id).join(',')}`); return sink.write(ops); } };
    const truncate = { op: 't', key: {}, after: undefined, commitLsn: '20', lsn: '19' } as const;
    const heartbeat = { op: 'h', key: {}, after: undefined, commitLsn: '30', lsn: '30', ts: '2026-01-01T00:00:30Z' } as const;
    const messages = [msg(1, { commitLsn: '10' }), msg(2, truncate), msg(3, { commitLsn: '20' }), msg(4, heartbeat)];
    const r = await processBatch('topic-a', 0, messages, {
      indexes: cfg.indexes, sink: recording, deadLetters: async () => undefined, maxDocsPerBulk: 10, limit: pLimit(2), keepAlive: async () => undefined,
      truncate: async (index, event) => { log.push(`truncate ${index} ${event.commitLsn}`); return []; },
    });
    expect(log).toEqual(['truncate items 20', 'write 3']);
    expect(r.position).toEqual({ lsn: 30n, commitTs: '2026-01-01T00:00:30Z' });
  });
});

describe('processBatch bulk size', () => {
  it('cuts bulk requests by bytes as well as by count', async () => {
    const sink = new RecordingSink();
    const big = 'x'.repeat(3_000);
    const messages = [1, 2, 3, 4, 5].map((i) => msg(i, { after: { title: big } }));
    await processBatch('topic-a', 0, messages, { indexes: cfg.indexes, sink, deadLetters: async () => undefined, truncate: async () => [], maxDocsPerBulk: 1000, maxBytesPerBulk: 7_000, limit: pLimit(1), keepAlive: async () => undefined });
    expect(sink.writes.map((w) => w.length)).toEqual([2, 2, 1]);
  });
});
