import { books } from '../testing/fake-backend';
import { orders } from '../testing/orders-index';
import { exactPath, fieldPaths, findPath, listPaths, nestedPath, PATH_PATTERN } from './field-paths';

describe('field paths', () => {
  it('lists root fields, then every relation field by its dotted path', () => {
    expect(fieldPaths(orders).map((f) => f.path)).toEqual([
      'number', 'status', 'total', 'placed_at',
      'customer.name', 'customer.country',
      'items.qty', 'items.product.title', 'items.product.category', 'items.discounts.code',
      'tags.label',
    ]);
  });
  it('records the nested relations on the way, outermost first; objects add none', () => {
    const nested = (p: string) => findPath(orders, p)!.nested;
    expect(nested('number')).toEqual([]);
    expect(nested('customer.country')).toEqual([]);
    expect(nested('items.qty')).toEqual(['items']);
    expect(nested('items.product.category')).toEqual(['items']);
    expect(nested('items.discounts.code')).toEqual(['items', 'items.discounts']);
    expect(nested('tags.label')).toEqual([]); // nested: false
    expect(nestedPath(findPath(orders, 'items.discounts.code')!)).toBe('items.discounts');
    expect(nestedPath(findPath(orders, 'number')!)).toBeUndefined();
  });
  it('keeps each field\'s own options and exact name', () => {
    const title = findPath(orders, 'items.product.title')!;
    expect([title.spec.searchable, title.spec.filterable, exactPath(title)]).toEqual([true, true, 'items.product.title.raw']);
    expect(exactPath(findPath(orders, 'customer.country')!)).toBe('customer.country');
    expect(listPaths(orders, (f) => f.spec.facetable)).toBe('status, customer.country, items.product.category, items.discounts.code, tags.label');
    expect(listPaths(books, (f) => f.path === 'nope')).toBe('none');
  });
  it('is the same frozen list on every call (computed once per index)', () => {
    expect(fieldPaths(orders)).toBe(fieldPaths(orders));
    expect(Object.isFrozen(fieldPaths(orders))).toBe(true);
  });
  it('reads dotted paths, not trailing dots or other characters', () => {
    expect(PATH_PATTERN.exec('items.product.category:toys')?.[0]).toBe('items.product.category');
    expect(PATH_PATTERN.exec('year:1990')?.[0]).toBe('year');
    expect(PATH_PATTERN.exec('items.:x')?.[0]).toBe('items');
    expect(PATH_PATTERN.exec('.x')).toBeNull();
  });
});
