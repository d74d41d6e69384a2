import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { parsePipelineConfig, type IndexSpec } from '../../config/pipeline';
import { readCatalog, type Catalog } from './catalog';
import { documentQuery } from './document-query';
import { rootKeysQuery, sitesOf } from './root-keys-query';
import { keyValueTextSql, valueSql } from './sql';

/**
 * The joined documents built by one query over real Postgres: customers <- orders (composite
 * key) <- items -> products, three levels, and articles <-> tags through a join table. Each run
 * uses its own schema.
 */
const schema = `join_${randomBytes(4).toString('hex')}`;
let db: Client;
let orders: IndexSpec;
let articles: IndexSpec;
let catalog: Catalog;

const config = (s: string) => ({
  version: 1,
  indexes: {
    orders: {
      table: `${s}.orders`,
      fields: { number: { type: 'keyword', searchable: true }, placed: { type: 'date', column: 'placed_at' }, total: { type: 'double' } },
      relations: {
        customer: { table: `${s}.customers`, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true }, vip: { type: 'boolean' } } },
        items: {
          table: `${s}.items`, kind: 'one-to-many', on: { region: 'order_region', id: 'order_id' }, orderBy: [{ column: 'position' }], limit: 2,
          fields: { qty: { type: 'integer' } },
          relations: { product: { table: `${s}.products`, kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text' }, meta: { type: 'keyword' }, weight: { type: 'float' } } } },
        },
      },
    },
    articles: {
      table: `${s}.articles`,
      fields: { title: { type: 'text', searchable: true } },
      relations: { tags: { table: `${s}.tags`, kind: 'many-to-many', on: { id: 'article_id' }, through: { table: `${s}.article_tags`, on: { tag_id: 'id' } }, orderBy: [{ column: 'label', direction: 'desc' }], fields: { label: { type: 'keyword' } } } },
    },
  },
});

beforeAll(async () => {
  db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema};
    SET search_path = ${schema};
    CREATE TABLE customers (id int PRIMARY KEY, name text, vip boolean);
    CREATE TABLE orders (region text, id bigint, customer_id int, number text, placed_at timestamptz, total numeric, PRIMARY KEY (region, id));
    CREATE TABLE products (id int PRIMARY KEY, title text, meta jsonb, weight float8);
    CREATE TABLE items (id int PRIMARY KEY, order_region text, order_id bigint, product_id int, position int, qty int);
    CREATE TABLE articles (id int PRIMARY KEY, title text);
    CREATE TABLE tags (id int PRIMARY KEY, label text);
    CREATE TABLE article_tags (article_id int, tag_id int, PRIMARY KEY (article_id, tag_id));
    INSERT INTO customers VALUES (1, 'Ada', true), (2, 'Bob', false);
    INSERT INTO orders VALUES ('eu', 9007199254740993, 1, 'A-1', '2026-01-02 03:04:05.123456+00', 12.50),
                              ('us', 7, 2, 'B-7', NULL, NULL), ('us', 8, 99, 'C-8', NULL, 1);
    INSERT INTO products VALUES (10, 'Pen', '{"colour": "blue"}', 0.5), (11, 'Ink', NULL, 'NaN');
    INSERT INTO items VALUES (100, 'eu', 9007199254740993, 10, 2, 3), (101, 'eu', 9007199254740993, 11, 1, 1),
                             (102, 'eu', 9007199254740993, 10, 3, 9), (103, 'us', 7, 10, 1, 1);
    INSERT INTO articles VALUES (1, 'Joins'), (2, 'Untagged');
    INSERT INTO tags VALUES (1, 'sql'), (2, 'postgres');
    INSERT INTO article_tags VALUES (1, 1), (1, 2);
    RESET search_path;`);
  const indexes = parsePipelineConfig(JSON.stringify(config(schema))).indexes;
  orders = indexes[0]!;
  articles = indexes[1]!;
  catalog = await readCatalog(db, [orders.source, articles.source, ...['customers', 'items', 'products', 'tags', 'article_tags'].map((table) => ({ schema, table }))]);
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

async function build(spec: IndexSpec, keys: Record<string, string | number>[]): Promise<(Record<string, unknown> | null)[]> {
  const q = documentQuery(spec, catalog);
  const { rows } = await db.query<{ ord: number; doc: string | null }>(q.text, q.params(keys));
  expect(rows.map((r) => r.ord)).toEqual(keys.map((_, i) => i + 1));
  return rows.map((r) => (r.doc === null ? null : JSON.parse(r.doc)));
}

const ref = (table: string, key: string) => `${schema}.${table}:${key}`;

describe('joined document query (real Postgres)', () => {
  it('builds a three-level document with exact values, ordered and capped arrays and its _refs', async () => {
    const [doc] = await build(orders, [{ region: 'eu', id: '9007199254740993' }]);
    expect(doc).toEqual({
      number: 'A-1',
      placed: '2026-01-02T03:04:05.123456+00:00',
      total: '12.50',
      customer: { name: 'Ada', vip: true },
      items: [
        { qty: 1, product: { title: 'Ink', meta: null, weight: 'NaN' } },
        { qty: 3, product: { title: 'Pen', meta: '{"colour": "blue"}', weight: 0.5 } },
      ],
      _refs: [
        ref('customers', '{"id":1}'),
        ref('items', '{"id":100}'),
        ref('items', '{"id":101}'),
        ref('orders', '{"id":"9007199254740993","region":"eu"}'),
        ref('products', '{"id":10}'),
        ref('products', '{"id":11}'),
      ],
    });
  });

  it('gives null and [] for missing relations, and null for a root that does not exist', async () => {
    const docs = await build(orders, [{ region: 'us', id: 8 }, { region: 'us', id: 404 }, { region: 'us', id: 7 }]);
    expect(docs[0]).toEqual({ number: 'C-8', placed: null, total: '1', customer: null, items: [], _refs: [ref('orders', '{"id":"8","region":"us"}')] });
    expect(docs[1]).toBeNull();
    expect(docs[2]).toMatchObject({ number: 'B-7', customer: { name: 'Bob', vip: false }, items: [{ qty: 1, product: { title: 'Pen' } }] });
  });

  it('joins many-to-many through the join table, whose rows are in _refs too', async () => {
    const docs = await build(articles, [{ id: 1 }, { id: 2 }]);
    expect(docs).toEqual([
      {
        title: 'Joins',
        tags: [{ label: 'sql' }, { label: 'postgres' }],
        _refs: [ref('article_tags', '{"article_id":1,"tag_id":1}'), ref('article_tags', '{"article_id":1,"tag_id":2}'), ref('articles', '{"id":1}'), ref('tags', '{"id":1}'), ref('tags', '{"id":2}')],
      },
      { title: 'Untagged', tags: [], _refs: [ref('articles', '{"id":2}')] },
    ]);
  });

  it('prints key values in _refs exactly as their JSON (the cheap casts equal to_jsonb)', async () => {
    const values: Array<[number, string, string]> = [
      [21, 'int2', '-32768'], [23, 'int4', '2147483647'], [26, 'oid', '4294967295'], [20, 'int8', '-9223372036854775808'],
      [1700, 'numeric', '-12.500'], [1700, 'numeric', 'NaN'], [2950, 'uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'], [1082, 'date', '2026-01-02'],
      [25, 'text', 'a "quoted" \\ back\nslash'], [16, 'boolean', 'true'],
    ];
    for (const [typeOid, type, v] of values) {
      const col = { name: 'v', typeOid, type };
      const { rows } = await db.query<{ cheap: string; json: string }>(`SELECT ${keyValueTextSql('x."v"', col)} AS cheap, (${valueSql('x."v"', col)})::text AS json FROM (SELECT $1::${type} AS v) x`, [v]);
      expect(rows[0]!.cheap).toBe(rows[0]!.json);
    }
  });

  it('walks a changed row up to the root keys that hold it now', async () => {
    const roots = async (spec: IndexSpec, table: string, keys: Record<string, number>[]) => {
      const [site] = sitesOf(spec, { schema, table });
      const q = rootKeysQuery(spec, catalog, site!);
      const { rows } = await db.query<{ key: string }>(q.text, q.params(keys));
      return rows.map((r) => r.key).sort();
    };
    // A product under two orders (one of its items beyond the cap still counts), three levels up.
    expect(await roots(orders, 'products', [{ id: 10 }])).toEqual(['{"id":"7","region":"us"}', '{"id":"9007199254740993","region":"eu"}']);
    expect(await roots(orders, 'customers', [{ id: 2 }, { id: 404 }])).toEqual(['{"id":"7","region":"us"}']);
    expect(await roots(orders, 'items', [{ id: 102 }])).toEqual(['{"id":"9007199254740993","region":"eu"}']);
    expect(await roots(articles, 'tags', [{ id: 2 }])).toEqual(['{"id":1}']);
    expect(await roots(articles, 'article_tags', [{ article_id: 1, tag_id: 1 }])).toEqual(['{"id":1}']);
  });
});
