import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { allDocs } from './indexer-harness';
import { uniqueName } from './services';

/**
 * A three-level model for joined-document tests: an order with its customer (many-to-one) and its
 * items (one-to-many), each item with its product (many-to-one). The expected documents are
 * computed by one SQL query written here by hand, never by the product's code.
 */
export function joinedModel() {
  const prefix = uniqueName('j');
  const [customers, orders, items, products] = ['customers', 'orders', 'items', 'products'].map((t) => `${prefix}_${t}`) as [string, string, string, string];
  const index = uniqueName('orders');
  const pipeline = {
    version: 1,
    indexes: {
      [index]: {
        table: orders,
        fields: { number: { type: 'keyword', searchable: true } },
        relations: {
          customer: { table: customers, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true }, country: { type: 'keyword', filterable: true } } },
          items: {
            table: items, kind: 'one-to-many', on: { id: 'order_id' }, orderBy: [{ column: 'id' }],
            fields: { qty: { type: 'integer' } },
            relations: { product: { table: products, kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text', searchable: true }, category: { type: 'keyword', filterable: true } } } },
          },
        },
      },
    },
  };
  const tables = [orders, customers, items, products];

  async function create(db: Client, size = { orders: 50, items: 200 }): Promise<void> {
    await db.query(`CREATE TABLE ${customers} (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL)`);
    await db.query(`CREATE TABLE ${products} (id int PRIMARY KEY, title text NOT NULL, category text NOT NULL)`);
    await db.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, number text NOT NULL, customer_id int)`);
    await db.query(`CREATE TABLE ${items} (id int PRIMARY KEY, order_id int, product_id int, qty int NOT NULL)`);
    await db.query(`CREATE INDEX ON ${items} (order_id)`);
    await db.query(`CREATE INDEX ON ${orders} (customer_id)`);
    await db.query(`INSERT INTO ${customers} SELECT i, 'customer ' || i, CASE WHEN i % 2 = 0 THEN 'fr' ELSE 'de' END FROM generate_series(1, 5) i`);
    await db.query(`INSERT INTO ${products} SELECT i, 'product ' || i, 'toys' FROM generate_series(1, 10) i`);
    await db.query(`INSERT INTO ${orders} SELECT i, 'N-' || i, 1 + i % 5 FROM generate_series(1, ${size.orders}) i`);
    await db.query(`INSERT INTO ${items} SELECT i, 1 + i % ${size.orders}, 1 + i % 10, i % 7 FROM generate_series(1, ${size.items}) i`);
  }

  /**
   * Every order's document as SQL computes it, `_refs` aside (the pipeline's own bookkeeping). A
   * customer and a product are their whole rows but the key: exactly their configured fields, and
   * after a column is dropped, what is left.
   */
  async function expectedDocs(db: Client): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: number; doc: unknown }>(`
      SELECT o.id, jsonb_build_object(
        'number', o.number,
        'customer', (SELECT to_jsonb(c) - 'id' FROM ${customers} c WHERE c.id = o.customer_id),
        'items', coalesce((SELECT jsonb_agg(jsonb_build_object('qty', i.qty,
                     'product', (SELECT to_jsonb(p) - 'id' FROM ${products} p WHERE p.id = i.product_id)) ORDER BY i.id)
                   FROM ${items} i WHERE i.order_id = o.id), '[]'::jsonb)) AS doc
      FROM ${orders} o`);
    return new Map(rows.map((r) => [String(r.id), canonical(r.doc)]));
  }

  /** Missing, extra and stale documents, with a few examples of stale ones. */
  async function verdict(db: Client, es: EsClient): Promise<{ missing: string[]; extra: string[]; stale: string[]; examples: string[] }> {
    const want = await expectedDocs(db);
    const got = await allDocs(es, index);
    const missing = [...want.keys()].filter((id) => !got.has(id));
    const extra = [...got.keys()].filter((id) => !want.has(id));
    const stale = [...want].filter(([id, doc]) => got.has(id) && canonical(JSON.parse(got.get(id)!.source)) !== doc).map(([id]) => id);
    return { missing, extra, stale, examples: stale.slice(0, 3).map((id) => `${id}: want ${want.get(id)} got ${got.get(id)!.source}`) };
  }

  const rnd = (n: number): number => 1 + Math.floor(Math.random() * n);
  let nextItem = 100_000;
  let nextOrder = 100_000;
  /** One random write to one of the four tables: foreign-key moves, child and root deletes, shared parents renamed. */
  async function randomWrite(db: Client, orderIds = 60): Promise<void> {
    const r = Math.random();
    if (r < 0.2) await db.query(`UPDATE ${items} SET order_id = $1 WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`, [rnd(orderIds)]);
    else if (r < 0.3) await db.query(`DELETE FROM ${items} WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`);
    else if (r < 0.45) await db.query(`INSERT INTO ${items} VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [nextItem++, rnd(orderIds), rnd(10), rnd(9)]);
    else if (r < 0.55) await db.query(`UPDATE ${items} SET qty = qty + 1, product_id = $1 WHERE id = (SELECT id FROM ${items} ORDER BY random() LIMIT 1)`, [rnd(10)]);
    else if (r < 0.62) await db.query(`DELETE FROM ${orders} WHERE id = $1`, [rnd(orderIds)]);
    else if (r < 0.7) await db.query(`INSERT INTO ${orders} VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [rnd(orderIds), `N-${nextOrder++}`, rnd(5)]);
    else if (r < 0.78) await db.query(`UPDATE ${orders} SET customer_id = $1 WHERE id = $2`, [rnd(5), rnd(orderIds)]);
    else if (r < 0.86) await db.query(`UPDATE ${customers} SET name = name || '+' WHERE id = $1`, [rnd(5)]);
    else if (r < 0.94) await db.query(`UPDATE ${products} SET title = title || '*', category = $2 WHERE id = $1`, [rnd(10), ['toys', 'books', 'games'][rnd(3) - 1]]);
    else {
      const c = rnd(5);
      await db.query(`BEGIN; UPDATE ${customers} SET country = 'xx' WHERE id = ${c}; UPDATE ${items} SET qty = 0 WHERE order_id = ${c}; COMMIT`);
    }
  }

  return { prefix, index, customers, orders, items, products, tables, pipeline, create, expectedDocs, verdict, randomWrite };
}

/** Key order does not matter, array order does; `_refs` is left out. */
export function canonical(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '_refs').sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
}
