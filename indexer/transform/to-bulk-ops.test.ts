import { parsePipelineConfig } from '../../config/pipeline';
import type { ChangeEvent } from '../../core/change-event';
import { bulkBody, coalesce, toBulkOps, toNdjson, type BulkOp } from './to-bulk-ops';

const cfg = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: { title: { type: 'text', searchable: true }, label: { type: 'keyword', column: 'tag' } } } } }));
const origin = { topic: 't', partition: 0, offset: '5' };
const ev = (over: Partial<ChangeEvent>): ChangeEvent => ({ v: 1, op: 'c', source: { schema: 'public', table: 'items' }, key: { id: 1 }, after: { id: 1, title: 'x', tag: 'a', secret: 's' }, lsn: '1', commitLsn: '1', txId: 1, ts: 'now', ...over });

describe('bulk ops', () => {
  it('maps only configured fields, renaming columns', () => {
    const [op] = toBulkOps(ev({}), origin, cfg.indexes);
    expect(op).toMatchObject({ action: 'index', index: 'items', id: '1', doc: { title: 'x', label: 'a' } });
    expect(op!.doc).not.toHaveProperty('secret');
  });
  it('prints versions above 2^53 exactly', () => {
    const big = '9223372036854775000'; // above 2^53, below Elasticsearch's long limit
    const nd = toNdjson(toBulkOps(ev({ commitLsn: big }), origin, cfg.indexes));
    expect(nd.split('\n')[0]).toBe(`{"index":{"_index":"items","_id":"1","version":${big},"version_type":"external_gte"}}`);
    expect(nd.endsWith('\n')).toBe(true);
  });
  it('writes a document given as JSON text as it is', () => {
    const nd = toNdjson([{ action: 'index', index: 'items', id: '1', version: '5', source: '{"n" : 12345678901234567890}', origin, lsn: '5' }]);
    expect(nd.split('\n')[1]).toBe('{"n" : 12345678901234567890}');
  });
  it('encodes any text whole into the body, past its size estimate', () => {
    const title = `é ✓ 😀 "quoted" \\ ${'x'.repeat(3000)}`;
    const ops = [1, 2, 3].map((i): BulkOp => ({ action: 'index', index: 'items', id: `ü${i}`, version: String(i), doc: { title }, origin, lsn: '1', bytes: 1 }));
    const body = bulkBody(ops);
    const expected = ops.map((o) => `{"index":{"_index":"items","_id":${JSON.stringify(o.id)},"version":${o.version},"version_type":"external_gte"}}\n${JSON.stringify({ title })}\n`).join('');
    expect(body.toString()).toBe(expected);
    expect(body.length).toBe(Buffer.byteLength(expected));
  });
  it('refuses a version that is not a decimal LSN', () => {
    expect(() => bulkBody([{ action: 'delete', index: 'items', id: '1', version: '1e3', origin, lsn: '1' }])).toThrow(RangeError);
  });
  it('turns deletes into versioned deletes without a body', () => {
    const { after: _a, ...rest } = ev({});
    const nd = toNdjson(toBulkOps({ ...rest, op: 'd', commitLsn: '77' }, origin, cfg.indexes));
    expect(nd).toBe('{"delete":{"_index":"items","_id":"1","version":77,"version_type":"external_gte"}}\n');
  });
  it('keeps only the last op per document, so a retry can never reorder equal versions', () => {
    const ops = [
      ...toBulkOps(ev({ after: { title: 'first' }, commitLsn: '9' }), origin, cfg.indexes),
      ...toBulkOps(ev({ key: { id: 2 }, after: { title: 'other' } }), origin, cfg.indexes),
      ...toBulkOps(ev({ after: { title: 'second' }, commitLsn: '9' }), { ...origin, offset: '6' }, cfg.indexes),
    ];
    const out = coalesce(ops);
    expect(out.map((o) => [o.id, o.doc?.title])).toEqual([['2', 'other'], ['1', 'second']]);
  });
  it('coalesces per index: one id in two indexes is two documents, and a run without repeats stays as it is', () => {
    const op = (index: string, id: string, version: string): BulkOp => ({ action: 'index', index, id, version, doc: {}, origin, lsn: version });
    const distinct = [op('a', '1', '1'), op('b', '1', '1'), op('a', '2', '1')];
    expect(coalesce(distinct)).toEqual(distinct);
    expect(coalesce([op('a', '1', '1'), op('b', '1', '1'), op('a', '1', '2')]).map((o) => [o.index, o.version])).toEqual([['b', '1'], ['a', '2']]);
    expect(coalesce([op('a', '1', '1'), op('a', '2', '1'), op('a', '1', '2')]).map((o) => [o.id, o.version])).toEqual([['2', '1'], ['1', '2']]);
  });
  it('lists the fields whose column was not sent (unchanged TOAST) as missing, never null', () => {
    const [op] = toBulkOps(ev({ op: 'u', after: { id: 1, title: 'x' }, unchanged: ['tag'] }), origin, cfg.indexes);
    expect(op).toMatchObject({ doc: { title: 'x' }, missing: ['label'] });
    expect(op!.doc).not.toHaveProperty('label');
  });
  it('ignores tables the pipeline does not index', () => {
    expect(toBulkOps(ev({ source: { schema: 'public', table: 'nope' } }), origin, cfg.indexes)).toEqual([]);
  });
});
