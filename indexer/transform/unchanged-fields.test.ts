import { parsePipelineConfig } from '../../config/pipeline';
import type { BulkOp } from './to-bulk-ops';
import { carryForward, fillFromCurrent, missingFields } from './unchanged-fields';

const fields = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { items: { table: 'items', fields: { title: { type: 'text', searchable: true }, body: { type: 'text', column: 'big' }, extra: { type: 'keyword', column: 'big2' } } } } })).indexes[0]!.fields;
const origin = { topic: 't', partition: 0, offset: '0' };
const put = (id: string, doc: Record<string, unknown>, missing?: string[]): BulkOp => ({ action: 'index', index: 'items', id, version: '1', doc, origin, lsn: '1', bytes: 100, ...(missing ? { missing } : {}) });
const del = (id: string): BulkOp => ({ action: 'delete', index: 'items', id, version: '1', origin, lsn: '1' });

describe('missingFields', () => {
  it('names the fields fed by columns that were not sent, by field name', () => {
    expect(missingFields(fields, { id: 1, title: 'x' }, ['big', 'big2', 'unmapped'])).toEqual(['body', 'extra']);
  });
  it('ignores a column listed as unchanged that is present after all, and no list at all', () => {
    expect(missingFields(fields, { big: 'sent' }, ['big'])).toEqual([]);
    expect(missingFields(fields, { title: 'x' }, undefined)).toEqual([]);
  });
});

describe('carryForward', () => {
  it('fills from the last earlier op of the same document, chained through several updates', () => {
    const out = carryForward([put('1', { title: 'a', body: 'B' }), put('2', { title: 'other' }, ['body']), put('1', { title: 'b' }, ['body']), put('1', { title: 'c' }, ['body'])]);
    expect(out.map((o) => [o.id, o.doc, o.missing])).toEqual([
      ['1', { title: 'a', body: 'B' }, undefined],
      ['2', { title: 'other' }, ['body']],
      ['1', { title: 'b', body: 'B' }, undefined],
      ['1', { title: 'c', body: 'B' }, undefined],
    ]);
    expect(out[2]!.bytes).toBeGreaterThan(100); // sized with the value it gained
  });
  it('leaves a field missing when the earlier op lacked it too (Elasticsearch still has it)', () => {
    const out = carryForward([put('1', { title: 'a' }, ['body']), put('1', { title: 'b' }, ['body'])]);
    expect(out[1]).toMatchObject({ doc: { title: 'b' }, missing: ['body'] });
  });
  it('gives up on a field after a delete or a full row without it: there is nothing to take it from', () => {
    const out = carryForward([del('1'), put('1', { title: 'a' }, ['body']), put('2', { title: 'x' }), put('2', { title: 'y' }, ['body'])]);
    expect(out[1]).toMatchObject({ doc: { title: 'a' }, unresolved: ['body'] });
    expect(out[1]!.missing).toBeUndefined();
    expect(out[1]!.doc).not.toHaveProperty('body');
    expect(out[3]).toMatchObject({ doc: { title: 'y' }, unresolved: ['body'] });
  });
});

describe('fillFromCurrent', () => {
  it('merges the current values into what is still missing, in one read', async () => {
    const reads: unknown[] = [];
    const out = await fillFromCurrent([put('1', { title: 'a' }, ['body', 'extra']), put('2', { title: 'full', body: 'own' }), put('3', { title: 'c' }, ['body'])], async (wanted) => {
      reads.push(wanted);
      return [{ body: 'B1', extra: null }, { body: 'B3' }];
    });
    expect(reads).toEqual([[{ index: 'items', id: '1', fields: ['body', 'extra'] }, { index: 'items', id: '3', fields: ['body'] }]]);
    expect(out.map((o) => o.doc)).toEqual([{ title: 'a', body: 'B1', extra: null }, { title: 'full', body: 'own' }, { title: 'c', body: 'B3' }]);
    expect(out.every((o) => !o.missing && !o.unresolved)).toBe(true);
  });
  it('leaves out what the current document does not have, or a document that does not exist, and marks it', async () => {
    const out = await fillFromCurrent([put('1', { title: 'a' }, ['body', 'extra']), put('2', { title: 'b' }, ['body'])], async () => [{ body: 'B1' }, undefined]);
    expect(out.map((o) => [o.doc, o.unresolved])).toEqual([[{ title: 'a', body: 'B1' }, ['extra']], [{ title: 'b' }, ['body']]]);
  });
  it('does not read when nothing is missing', async () => {
    const ops = [put('1', { title: 'a' })];
    expect(await fillFromCurrent(ops, async () => { throw new Error('no read expected'); })).toEqual(ops);
  });
});
