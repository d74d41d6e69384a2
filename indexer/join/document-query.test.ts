import { parsePipelineConfig } from '../../config/pipeline';
import type { Catalog, ColumnInfo, TableInfo } from './catalog';
import { documentQuery } from './document-query';
import { joinSites, rootKeysQuery, sitesOf } from './root-keys-query';
import { buildJsonObjectSql, canonicalKeySql, ident, literal } from './sql';

const INT4 = 23;
const TEXT = 25;
const col = (name: string, typeOid = INT4): ColumnInfo => ({ name, typeOid, type: typeOid === INT4 ? 'integer' : 'text' });
const table = (name: string, key: string[], columns: ColumnInfo[]): [string, TableInfo] => [`s.${name}`, { schema: 's', table: name, key, columns }];
const catalog: Catalog = new Map([
  table('orders', ['region', 'id'], [col('region', TEXT), col('id'), col('customer_id'), col('na"me', TEXT)]),
  table('customers', ['id'], [col('id'), col('name', TEXT)]),
  table('items', ['id'], [col('id'), col('order_region', TEXT), col('order_id'), col('pos'), col('product_id')]),
  table('products', ['id'], [col('id'), col('title', TEXT)]),
  table('tags', ['id'], [col('id'), col('label', TEXT)]),
  table('order_tags', ['order_id', 'tag_id'], [col('order_id'), col('tag_id')]),
]);
const [index] = parsePipelineConfig(JSON.stringify({
  version: 1,
  indexes: {
    orders: {
      table: 's.orders',
      fields: { name: { type: 'text', column: 'na"me', searchable: true } },
      relations: {
        customer: { table: 's.customers', kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text' } } },
        items: {
          table: 's.items', kind: 'one-to-many', on: { region: 'order_region', id: 'order_id' }, orderBy: [{ column: 'pos', direction: 'desc' }], limit: 5, fields: { pos: { type: 'integer' } },
          relations: { product: { table: 's.products', kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text' } } } },
        },
        tags: { table: 's.tags', kind: 'many-to-many', on: { id: 'order_id' }, through: { table: 's.order_tags', on: { tag_id: 'id' } }, fields: { label: { type: 'keyword' } } },
      },
    },
  },
})).indexes;

describe('documentQuery', () => {
  const q = documentQuery(index!, catalog);
  it('takes the batch of root keys as one text array per key column, in key order', () => {
    expect(q.params([{ id: 1, region: 'eu' }, { region: 'us', id: 2 }])).toEqual([['eu', 'us'], ['1', '2']]);
    expect(q.text).toContain('FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(k0, k1, ord)');
    expect(q.text).toContain('LEFT JOIN "s"."orders" t0 ON t0."region" = k.k0::text AND t0."id" = k.k1::integer');
  });
  it('quotes identifiers and literals', () => {
    expect(q.text).toContain(`'name', to_jsonb(t0."na""me"::text)`);
    expect(ident('a"b')).toBe('"a""b"');
    expect(literal("o'k")).toBe("'o''k'");
  });
  it('joins every relation as a correlated lateral, to the depth of the tree', () => {
    expect(q.text.match(/LEFT JOIN LATERAL/g)).toHaveLength(4);
    expect(q.text).toMatch(/WHERE t\d+\."order_region" = t0\."region" AND t\d+\."order_id" = t0\."id"/);
    expect(q.text).toMatch(/JOIN "s"\."tags" t\d+ ON t\d+\."id" = t\d+\."tag_id"/);
  });
  it('orders and caps an array, the key breaking ties, and orders the aggregate the same way', () => {
    expect(q.text).toMatch(/ORDER BY t(\d+)\."pos" DESC, t\1\."id"\n\s+ LIMIT 5/);
    expect(q.text).toContain('json_agg(doc ORDER BY o0 DESC, o1)');
  });
  it('writes _refs from canonical keys: columns sorted by name, JSON without spaces', () => {
    const key = canonicalKeySql('t0', [col('region', TEXT), col('id')]);
    expect(key).toBe(`('{"id":' || t0."id"::text || ',"region":' || (to_jsonb(t0."region"::text))::text || '}')`);
    expect(q.text).toContain(`('s.order_tags:' || `);
    expect(q.text).toContain(`'_refs', (SELECT array_agg(DISTINCT r ORDER BY r)`);
  });
  it('lets the JSON text go to Elasticsearch as it is unless a field reads a json/jsonb column', () => {
    expect(q.exactText).toBe(true);
    const withJson: Catalog = new Map([...catalog, table('products', ['id'], [col('id'), { name: 'title', typeOid: 3802, type: 'jsonb' }])]);
    expect(documentQuery(index!, withJson).exactText).toBe(false);
  });
  it('splits objects of more than 50 keys (Postgres functions take at most 100 arguments)', () => {
    const sql = buildJsonObjectSql(Array.from({ length: 51 }, (_, i) => [`f${i}`, 'NULL'] as const));
    expect(sql.split('::jsonb || json_build_object(')).toHaveLength(2);
    expect(buildJsonObjectSql([['a', 'NULL']])).toBe(`json_build_object('a', NULL)`);
  });
});

describe('rootKeysQuery', () => {
  it('lists every place of a related table, through tables included', () => {
    expect(joinSites(index!).map((s) => `${s.path.map((r) => r.name).join('.')}${s.through ? ' (through)' : ''}`)).toEqual(['customer', 'items', 'items.product', 'tags (through)', 'tags']);
  });
  it('walks from the changed rows up to the root, composite join keys included', () => {
    const q = rootKeysQuery(index!, catalog, sitesOf(index!, { schema: 's', table: 'products' })[0]!);
    expect(q.text).toBe([
      `SELECT DISTINCT ('{"id":' || t2."id"::text || ',"region":' || (to_jsonb(t2."region"::text))::text || '}') AS key`,
      '  FROM unnest($1::text[]) AS k(k0)',
      '  JOIN "s"."products" t0 ON t0."id" = k.k0::integer',
      '  JOIN "s"."items" t1 ON t1."product_id" = t0."id"',
      '  JOIN "s"."orders" t2 ON t2."region" = t1."order_region" AND t2."id" = t1."order_id"',
    ].join('\n'));
  });
  it('goes through the join table of a many-to-many, or starts there', () => {
    const viaTag = rootKeysQuery(index!, catalog, sitesOf(index!, { schema: 's', table: 'tags' })[0]!);
    expect(viaTag.text).toContain('JOIN "s"."order_tags" t1 ON t1."tag_id" = t0."id"\n  JOIN "s"."orders" t2 ON t2."id" = t1."order_id"');
    const fromJoin = rootKeysQuery(index!, catalog, sitesOf(index!, { schema: 's', table: 'order_tags' })[0]!);
    expect(fromJoin.params([{ tag_id: 2, order_id: 1 }])).toEqual([['1'], ['2']]);
    expect(fromJoin.text).toContain('JOIN "s"."order_tags" t0 ON t0."order_id" = k.k0::integer AND t0."tag_id" = k.k1::integer\n  JOIN "s"."orders" t1 ON t1."id" = t0."order_id"');
  });
});
