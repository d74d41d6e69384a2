import pLimit from 'p-limit';
import { parsePipelineConfig } from '../config/pipeline';
import type { ChangeEvent } from '../core/change-event';
import { prepareBatch, processBatch } from './batch-processor';
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
    const r = await processBatch('topic-a', 2, messages, { indexes: cfg.indexes, sink, deadLetters: async (d) => void parked.push(...d), truncate: async () => [], maxDocsPerBulk: 2, limit: pLimit(2), keepAlive: async () => undefined, readCurrent: async (w) => w.map(() => undefined) });
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
      indexes: cfg.indexes, sink: recording, deadLetters: async () => undefined, maxDocsPerBulk: 10, limit: pLimit(2), keepAlive: async () => undefined, readCurrent: async (w) => w.map(() => undefined),
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
    await processBatch('topic-a', 0, messages, { indexes: cfg.indexes, sink, deadLetters: async () => undefined, truncate: async () => [], maxDocsPerBulk: 1000, maxBytesPerBulk: 7_000, limit: pLimit(1), keepAlive: async () => undefined, readCurrent: async (w) => w.map(() => undefined) });
    expect(sink.writes.map((w) => w.length)).toEqual([2, 2, 1]);
  });
});

describe('processBatch unchanged TOAST fields', () => {
  const toastCfg = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: { title: { type: 'text', searchable: true }, body: { type: 'text', column: 'big' } } } } }));
  const update = (offset: number, id: number, title: string, commitLsn: string) => msg(offset, { op: 'u', key: { id }, after: { id, title }, unchanged: ['big'], commitLsn, lsn: commitLsn });
  const run = async (messages: ReturnType<typeof msg>[], current: Record<string, Record<string, unknown>>) => {
    const sink = new RecordingSink();
    const reads: string[][] = [];
    const unresolved: string[] = [];
    await processBatch('topic-a', 0, messages, {
      indexes: toastCfg.indexes, sink, deadLetters: async () => undefined, truncate: async () => [], maxDocsPerBulk: 100, limit: pLimit(1), keepAlive: async () => undefined,
      readCurrent: async (wanted) => {
        reads.push(wanted.map((w) => `${w.index}/${w.id}:${w.fields.join(',')}`));
        return wanted.map((w) => current[w.id]);
      },
      onUnresolved: (ops) => unresolved.push(...ops.map((o) => `${o.id}:${o.unresolved!.join(',')}`)),
    });
    return { docs: sink.writes.flat().map((o) => [o.id, o.version, o.doc]), reads, unresolved };
  };

  it('takes the value from an earlier change of the document in the same batch, without reading Elasticsearch', async () => {
    const r = await run([msg(1, { key: { id: 1 }, after: { id: 1, title: 'a', big: 'B1' }, commitLsn: '5' }), update(2, 1, 'b', '6'), update(3, 1, 'c', '6')], {});
    expect(r.docs).toEqual([['1', '6', { title: 'c', body: 'B1' }]]);
    expect(r.reads).toEqual([]);
    expect(r.unresolved).toEqual([]);
  });

  it('reads what the batch lacks from Elasticsearch, once per document, and indexes the whole document with the change\'s version', async () => {
    const r = await run([update(1, 1, 'b', '6'), update(2, 1, 'c', '6'), update(3, 2, 'x', '7')], { 1: { body: 'B1' }, 2: { body: 'B2' } });
    expect(r.reads).toEqual([['items/1:body', 'items/2:body']]);
    expect(r.docs).toEqual([['1', '6', { title: 'c', body: 'B1' }], ['2', '7', { title: 'x', body: 'B2' }]]);
  });

  it('indexes a document that is not there without the field, never null, and reports it', async () => {
    const r = await run([update(1, 3, 'lonely', '8')], {});
    expect(r.docs).toEqual([['3', '8', { title: 'lonely' }]]);
    expect(r.unresolved).toEqual(['3:body']);
  });
});

describe('prepareBatch', () => {
  it('decodes and maps without any I/O, one op per document per run, runs split by a truncate, highest commit LSN kept exactly', () => {
    const truncate = { op: 't', key: {}, after: undefined, commitLsn: '20', lsn: '19' } as const;
    const p = prepareBatch('topic-a', 1, [msg(1, { commitLsn: '9' }), msg(1, { commitLsn: '10', after: { title: 'again' } }), msg(2, truncate), msg(3, { commitLsn: '9007199254740993' }), msg(4, 'nope')], cfg.indexes);
    expect(p.steps.map((s) => ('truncate' in s ? `truncate ${s.indexes.join(',')}` : s.ops.map((o) => `${o.id}@${o.version}`).join(',')))).toEqual(['truncate items', '3@9007199254740993']);
    expect(p.position?.lsn).toBe(9007199254740993n);
    expect(p.invalid.map((d) => d.offset)).toEqual(['4']);
  });
});
