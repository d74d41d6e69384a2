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
    const r = await processBatch('topic-a', 2, messages, { indexes: cfg.indexes, sink, deadLetters: async (d) => void parked.push(...d), maxDocsPerBulk: 2, limit: pLimit(2), keepAlive: async () => undefined });
    expect(sink.writes.map((w) => w.map((o) => o.id))).toEqual([['1', '2'], ['3', '5']]);
    expect(r).toEqual({ ops: 4, deadLetters: 2 });
    expect(parked.map((p) => [p.offset, p.errorType])).toEqual([['4', 'invalid_event'], ['3', 'document_parsing_exception']]);
    expect(parked[1]).toMatchObject({ topic: 'topic-a', partition: 2, index: 'items', id: '3', commitLsn: '1' });
  });
});
