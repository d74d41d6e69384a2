import { parsePipelineConfig } from './pipeline';

const orders = {
  version: 1,
  indexes: {
    orders: {
      table: 'shop.orders',
      fields: { number: { type: 'keyword', searchable: true } },
      relations: {
        customer: { table: 'shop.customers', kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true } } },
        items: {
          table: 'shop.order_items',
          kind: 'one-to-many',
          on: { region: 'order_region', id: 'order_id' },
          orderBy: [{ column: 'position' }, { column: 'qty', direction: 'desc' }],
          limit: 50,
          fields: { qty: { type: 'integer' } },
          relations: { product: { table: 'shop.products', kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text', searchable: true } } } },
        },
        tags: { table: 'tags', kind: 'many-to-many', on: { id: 'order_id' }, through: { table: 'shop.order_tags', on: { tag_id: 'id' } }, nested: false, fields: { label: { type: 'keyword' } } },
      },
    },
  },
};

const parse = (cfg: unknown) => parsePipelineConfig(JSON.stringify(cfg), 'p.json');
const edit = (f: (idx: any) => void) => {
  const cfg = structuredClone(orders) as any;
  f(cfg.indexes.orders);
  return cfg;
};

describe('pipeline config relations', () => {
  it('compiles a typed relation tree three levels deep', () => {
    const [customer, items, tags] = parse(orders).indexes[0]!.relations!;
    expect(customer).toMatchObject({ name: 'customer', kind: 'many-to-one', source: { schema: 'shop', table: 'customers' }, on: [{ parent: 'customer_id', child: 'id' }], many: false, nested: false, orderBy: [], relations: [] });
    expect(customer!.fields[0]).toMatchObject({ name: 'name', column: 'name', analyzer: 'standard', searchable: true });
    expect(items).toMatchObject({
      kind: 'one-to-many', many: true, nested: true, limit: 50,
      on: [{ parent: 'region', child: 'order_region' }, { parent: 'id', child: 'order_id' }],
      orderBy: [{ column: 'position', direction: 'asc' }, { column: 'qty', direction: 'desc' }],
    });
    expect(items!.relations[0]).toMatchObject({ name: 'product', source: { schema: 'shop', table: 'products' }, on: [{ parent: 'product_id', child: 'id' }] });
    expect(tags).toMatchObject({ kind: 'many-to-many', many: true, nested: false, source: { schema: 'public', table: 'tags' }, through: { source: { schema: 'shop', table: 'order_tags' }, on: [{ parent: 'tag_id', child: 'id' }] } });
    expect(tags).not.toHaveProperty('limit');
  });
  it('leaves a single-table index as it was: no relations key', () => {
    const idx = parse({ version: 1, indexes: { b: { table: 'b', fields: { t: { type: 'text', searchable: true } } } } }).indexes[0]!;
    expect(idx).toEqual({ name: 'b', source: { schema: 'public', table: 'b' }, fields: [expect.objectContaining({ name: 't' })] });
  });
  it('allows "id" as a field of a related row, not at the root', () => {
    expect(() => parse(edit((o) => { o.relations.customer.fields.id = { type: 'keyword' }; }))).not.toThrow();
  });
  it('names the JSON path of a bad kind deep in the tree, and the allowed values', () => {
    expect(() => parse(edit((o) => { o.relations.items.relations.product.kind = 'belongs-to'; })))
      .toThrow(/p\.json is invalid[\s\S]*\/indexes\/orders\/relations\/items\/relations\/product\/kind: must be equal to one of the allowed values: many-to-one, one-to-many, many-to-many, one-to-one/);
  });
  it('names unknown keys and bad field options inside relations', () => {
    expect(() => parse(edit((o) => { o.relations.items.oderBy = []; }))).toThrow(/\/indexes\/orders\/relations\/items: unknown key "oderBy"/);
    expect(() => parse(edit((o) => { o.relations.customer.fields.name.type = 'string'; }))).toThrow(/\/indexes\/orders\/relations\/customer\/fields\/name\/type/);
    expect(() => parse(edit((o) => { o.relations.items.fields.qty.searchable = true; }))).toThrow(/\/indexes\/orders\/relations\/items\/fields\/qty\/searchable: only text and keyword/);
  });
  it('asks for the join columns', () => {
    expect(() => parse(edit((o) => { delete o.relations.customer.on; }))).toThrow(/\/indexes\/orders\/relations\/customer: missing "on"; add it/);
    expect(() => parse(edit((o) => { o.relations.customer.on = {}; }))).toThrow(/\/indexes\/orders\/relations\/customer\/on: must NOT have fewer than 1 properties/);
  });
  it('needs "through" exactly for many-to-many, saying what to write', () => {
    expect(() => parse(edit((o) => { delete o.relations.tags.through; }))).toThrow(/\/indexes\/orders\/relations\/tags: a many-to-many relation needs "through": \{ "table": "<join table>"/);
    expect(() => parse(edit((o) => { o.relations.customer.through = { table: 'x', on: { a: 'b' } }; }))).toThrow(/\/indexes\/orders\/relations\/customer\/through: only many-to-many relations/);
  });
  it('refuses array options on an object relation', () => {
    expect(() => parse(edit((o) => { o.relations.customer.limit = 3; o.relations.customer.nested = true; })))
      .toThrow(/customer\/nested: a many-to-one relation is one object, not an array; remove "nested"[\s\S]*customer\/limit: /);
  });
  it('refuses a relation named like a field beside it, or reserved', () => {
    expect(() => parse(edit((o) => { o.fields.customer = { type: 'keyword' }; }))).toThrow(/\/indexes\/orders\/relations\/customer: "customer" is also a field beside it/);
    expect(() => parse(edit((o) => { o.relations.items.relations._refs = o.relations.items.relations.product; }))).toThrow(/\/indexes\/orders\/relations\/items\/relations: "_refs" must match/);
    expect(() => parse(edit((o) => { o.relations.id = o.relations.customer; }))).toThrow(/\/indexes\/orders\/relations\/id: "id" is reserved/);
  });
  it('refuses a relation that contributes nothing', () => {
    expect(() => parse(edit((o) => { delete o.relations.customer.fields; }))).toThrow(/customer: a relation needs "fields" or "relations"/);
  });
});
