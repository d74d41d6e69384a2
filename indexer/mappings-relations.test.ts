import { parsePipelineConfig } from '../config/pipeline';
import { indexBody, mappingHash } from './mappings';

const plain = { table: 'orders', fields: { number: { type: 'keyword', searchable: true } } };
const joined = {
  ...plain,
  relations: {
    customer: { table: 'customers', kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', facetable: true } } },
    items: {
      table: 'items', kind: 'one-to-many', on: { id: 'order_id' }, fields: { qty: { type: 'integer' } },
      relations: {
        product: { table: 'products', kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text' } } },
        tags: { table: 'tags', kind: 'many-to-many', on: { product_id: 'product_id' }, through: { table: 'product_tags', on: { tag_id: 'id' } }, nested: false, fields: { label: { type: 'keyword' } } },
      },
    },
  },
};
const compile = (index: unknown) => parsePipelineConfig(JSON.stringify({ version: 1, indexes: { orders: index } })).indexes[0]!;
const props = (index: unknown) => (indexBody(compile(index)).mappings as { properties: Record<string, unknown> }).properties;

describe('mappings of joined documents', () => {
  it('maps one related row as object, arrays as nested or object as configured, to any depth', () => {
    const p = props(joined);
    expect(p.customer).toEqual({ type: 'object', properties: { name: { type: 'text', analyzer: 'standard', fields: { raw: { type: 'keyword', ignore_above: 1024 } } } } });
    expect(p.items).toEqual({
      type: 'nested',
      properties: {
        qty: { type: 'integer' },
        product: { type: 'object', properties: { title: { type: 'text', analyzer: 'standard' } } },
        tags: { type: 'object', properties: { label: { type: 'keyword', ignore_above: 8191 } } },
      },
    });
  });
  it('adds _refs as an indexed keyword without doc values, only to indexes with relations', () => {
    expect(props(joined)._refs).toEqual({ type: 'keyword', doc_values: false });
    expect(props(plain)).not.toHaveProperty('_refs');
  });
  it('changes the mapping hash with the relations, not the hash of a single-table index', () => {
    expect(mappingHash(compile(joined))).not.toBe(mappingHash(compile(plain)));
    const flat = structuredClone(joined);
    flat.relations.items.relations.tags.nested = true;
    expect(mappingHash(compile(flat))).not.toBe(mappingHash(compile(joined)));
  });
});
