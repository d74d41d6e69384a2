import { parsePipelineConfig } from '../../config/pipeline';
import { configuredColumns, diffSchema, sameColumns, withKeyColumns } from './schema-diff';

const pipeline = parsePipelineConfig(JSON.stringify({ version: 1, indexes: {
  a: { table: 't', fields: { title: { type: 'text', searchable: true }, price: { type: 'double', column: 'amount' } } },
  b: { table: 'public.t', fields: { label: { type: 'keyword', column: 'title', searchable: true } } },
} }));
const used = configuredColumns(pipeline).get('public.t')!;

describe('diffSchema', () => {
  it('lists every field a table feeds, across indexes', () => {
    expect(used.map((u) => `${u.index}.${u.field}<-${u.column}`)).toEqual(['a.title<-title', 'a.price<-amount', 'b.label<-title']);
  });

  it('takes the first description as it is, only reporting configured columns it lacks', () => {
    expect(diffSchema(undefined, { id: 23, title: 25 }, used)).toEqual({ changes: [], missing: [used[1]], resnapshot: false });
  });

  it('a dropped or renamed configured column: every field it fed is missing, and the table is copied again', () => {
    const d = diffSchema({ id: 23, title: 25, amount: 1700 }, { id: 23, heading: 25, amount: 1700 }, used);
    expect(d.changes.map((c) => [c.kind, c.used.index, c.used.field])).toEqual([['column_missing', 'a', 'title'], ['column_missing', 'b', 'label']]);
    expect(d.missing.map((m) => m.column)).toEqual(['title', 'title']);
    expect(d.resnapshot).toBe(true);
  });

  it('a column that comes back (renamed back) is copied again too, so no document keeps lacking it', () => {
    const d = diffSchema({ id: 23, heading: 25, amount: 1700 }, { id: 23, title: 25, amount: 1700 }, used);
    expect(d.changes.map((c) => c.kind)).toEqual(['column_back', 'column_back']);
    expect(d.missing).toEqual([]);
    expect(d.resnapshot).toBe(true);
  });

  it('a retyped configured column (numeric to float8) is a change; one no field reads is not', () => {
    const d = diffSchema({ id: 23, title: 25, amount: 1700, note: 25 }, { id: 23, title: 25, amount: 701, note: 1043 }, used);
    expect(d.changes).toEqual([{ kind: 'column_retyped', used: used[1], fromOid: 1700, toOid: 701 }]);
    expect(diffSchema({ id: 23, title: 25, amount: 1700 }, { id: 23, title: 25, amount: 1700, added: 25 }, used).resnapshot).toBe(false);
  });

  it('sameColumns compares names and types', () => {
    expect(sameColumns({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameColumns({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameColumns({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameColumns(undefined, {})).toBe(false);
  });

  it('a related table\'s key and orderBy columns feed the documents too: retyping the key is a change', () => {
    const joined = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { o: { table: 'orders', fields: { n: { type: 'keyword', searchable: true } }, relations: {
      items: { table: 'items', kind: 'one-to-many', on: { id: 'order_id' }, orderBy: [{ column: 'pos' }], fields: { qty: { type: 'integer' } } },
    } } } }));
    const relation = { schema: 'public', name: 'items', keyColumns: ['id'], replicaIdentity: 'default' as const, columns: [] };
    const items = withKeyColumns(configuredColumns(joined).get('public.items')!, relation);
    expect(items.map((u) => `${u.field}<-${u.column}`)).toEqual(['items.qty<-qty', 'items<-pos', 'items<-order_id', '_refs<-id']);
    expect(diffSchema({ id: 23, order_id: 23, pos: 23, qty: 23 }, { id: 20, order_id: 23, pos: 23, qty: 23 }, items).changes.map((c) => [c.kind, c.used.column])).toEqual([['column_retyped', 'id']]);
    // A root table's own key is not a field of its documents.
    expect(withKeyColumns(configuredColumns(joined).get('public.orders')!, { ...relation, name: 'orders' }).map((u) => u.column)).toEqual(['n', 'id']);
  });
});
