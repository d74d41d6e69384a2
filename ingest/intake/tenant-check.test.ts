import { parsePipelineConfig } from '../../config/pipeline';
import type { ChangeEvent } from '../../core/change-event';
import { enforceTenant, tenantColumns } from './tenant-check';

const ev = (over: Partial<ChangeEvent>): ChangeEvent => ({ v: 1, op: 'u', source: { schema: 'public', table: 'orders' }, key: { org: 'a', id: '1' }, after: { org: 'a', id: '1', title: 't' }, lsn: '5', commitLsn: '5', txId: 1, ts: 'now', ...over });

describe('a tenant key on the events it writes', () => {
  it('finds the source column of each index\'s tenantField', () => {
    const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
      orders: { table: 'public.orders', tenantField: 'tenant', fields: { title: { type: 'text', searchable: true }, tenant: { type: 'keyword', column: 'org' } } },
      shared: { table: 'public.books', fields: { title: { type: 'text', searchable: true } } },
    } }));
    expect(tenantColumns(pipeline)).toEqual(new Map([['public.orders', ['org']]]));
  });

  it('lets a key write its own tenant\'s rows, filling the row\'s tenant column in when left out', () => {
    expect(enforceTenant(ev({}), 'a', ['org'])).toEqual([]);
    const e = ev({ after: { id: '1', title: 't' } });
    expect(enforceTenant(e, 'a', ['org'])).toEqual([]);
    expect(e.after).toEqual({ id: '1', title: 't', org: 'a' });
    expect(enforceTenant(ev({ op: 'd', after: undefined }), 'a', ['org'])).toEqual([]);
  });

  it('refuses another tenant\'s key or row value, a key without the tenant column, and truncates', () => {
    expect(enforceTenant(ev({ key: { org: 'b', id: '1' } }), 'a', ['org'])).toEqual([expect.stringMatching(/^\/key\/org is "b"; this API key writes for tenant "a" only/)]);
    expect(enforceTenant(ev({ op: 'd', key: { org: 'b', id: '1' }, after: undefined }), 'a', ['org'])).toHaveLength(1);
    expect(enforceTenant(ev({ after: { org: 'b', id: '1' } }), 'a', ['org'])).toEqual([expect.stringMatching(/^\/after\/org is "b"/)]);
    expect(enforceTenant(ev({ key: { id: '1' } }), 'a', ['org'])).toEqual([expect.stringMatching(/^\/key has no "org" \(the tenant column\)/)]);
    expect(enforceTenant(ev({ op: 't', key: {}, after: undefined }), 'a', ['org'])).toEqual([expect.stringMatching(/^\/op "t" would empty the documents of every tenant/)]);
  });
});
