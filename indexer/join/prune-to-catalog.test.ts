import { parsePipelineConfig } from '../../config/pipeline';
import type { Catalog, TableInfo } from './catalog';
import { pruneToCatalog } from './prune-to-catalog';

const index = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { o: {
  table: 'orders', fields: { number: { type: 'keyword', searchable: true } },
  relations: {
    tags: { table: 'tags', kind: 'many-to-many', on: { id: 'order_id' }, through: { table: 'order_tags', on: { tag_id: 'id' } }, orderBy: [{ column: 'label' }], fields: { label: { type: 'keyword' } } },
    shipping: { table: 'shipping', kind: 'one-to-one', on: { region: 'order_region', id: 'order_id' }, fields: { carrier: { type: 'keyword' } } },
  },
} } })).indexes[0]!;
const table = (name: string, columns: string[]): [string, TableInfo] => [`public.${name}`, { schema: 'public', table: name, columns: columns.map((c) => ({ name: c, typeOid: 23, type: 'integer' })), key: [columns[0]!] }];

describe('pruneToCatalog', () => {
  it('keeps everything the catalog still has', () => {
    const catalog: Catalog = new Map([table('orders', ['id', 'region', 'number']), table('tags', ['id', 'label']), table('order_tags', ['order_id', 'tag_id']), table('shipping', ['order_id', 'order_region', 'carrier'])]);
    expect(pruneToCatalog(index, catalog)).toEqual({ index, removed: [] });
  });

  it('a renamed field and orderBy column are left out (key order then), a relation whose join column is gone too', () => {
    const catalog: Catalog = new Map([table('orders', ['id', 'region', 'number']), table('tags', ['id', 'name']), table('order_tags', ['order_id', 'tag_id']), table('shipping', ['order_id', 'carrier'])]);
    const { index: pruned, removed } = pruneToCatalog(index, catalog);
    expect(removed).toEqual(['tags order by label (column public.tags.label)', 'tags.label (column public.tags.label)', 'shipping (join column public.shipping.order_region)']);
    expect(pruned.relations!.map((r) => [r.name, r.orderBy, r.fields.map((f) => f.name)])).toEqual([['tags', [], []]]);
  });

  it('a relation whose join columns cannot be compared any more is left out, with the reason', () => {
    const catalog: Catalog = new Map([table('orders', ['id', 'region', 'number']), table('tags', ['id', 'label']), table('order_tags', ['order_id', 'tag_id']), table('shipping', ['order_id', 'order_region', 'carrier'])]);
    const { index: pruned, removed } = pruneToCatalog(index, catalog, new Map([['shipping', 'join column public.orders.id (integer) cannot be compared with public.shipping.order_id (text)']]));
    expect(removed).toEqual(['shipping (join column public.orders.id (integer) cannot be compared with public.shipping.order_id (text))']);
    expect(pruned.relations!.map((r) => r.name)).toEqual(['tags']);
  });
});
