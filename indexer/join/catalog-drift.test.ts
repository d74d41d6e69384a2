import type { Catalog, TableInfo } from './catalog';
import { catalogDrift } from './catalog-drift';

const table = (name: string, columns: Array<[string, number, string]>, key: string[]): [string, TableInfo] =>
  [`public.${name}`, { schema: 'public', table: name, columns: columns.map(([n, typeOid, type]) => ({ name: n, typeOid, type })), key }];
const tables = [{ schema: 'public', table: 'orders' }, { schema: 'public', table: 'items' }];
const built: Catalog = new Map([
  table('orders', [['id', 23, 'integer'], ['number', 25, 'text']], ['id']),
  table('items', [['id', 23, 'integer'], ['order_id', 23, 'integer'], ['qty', 23, 'integer']], ['id']),
]);

describe('catalogDrift', () => {
  it('nothing when only columns no query reads were added', () => {
    const now: Catalog = new Map([...built, table('items', [['id', 23, 'integer'], ['order_id', 23, 'integer'], ['qty', 23, 'integer'], ['note', 25, 'text']], ['id'])]);
    expect(catalogDrift(built, now, tables)).toEqual([]);
  });

  it('a retyped column, a changed key, a dropped column and a table gone are each named', () => {
    const now: Catalog = new Map([table('items', [['id', 20, 'bigint'], ['qty', 23, 'integer'], ['region', 25, 'text']], ['region', 'id'])]);
    expect(catalogDrift(built, now, tables)).toEqual([
      'table public.orders is gone',
      'column public.items.id changed type from integer to bigint',
      'column public.items.order_id is gone (dropped or renamed)',
      'the key of public.items is (region, id), was (id)',
    ]);
  });
});
