import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { allDocs } from './indexer-harness';
import { uniqueName } from './services';

/**
 * The model of the joined-document tests, every kind of relation and composite keys: an order
 * (key `id`, with a `region`) with
 *   - its customer (many-to-one),
 *   - its shipping (one-to-one, joined on the composite key (region, id) = (order_region, order_id),
 *     the shipping row's own primary key),
 *   - its items (one-to-many, composite primary key (region, id), joined on the composite key
 *     (region, id) = (order_region, order_id)), each item with its product (many-to-one),
 *   - its tags (many-to-many through order_tags, whose primary key is (order_id, tag_id)),
 *     ordered by label.
 * The expected documents are computed by one SQL query written here by hand, never by the
 * product's code.
 */
export function joinedModel() {
  const prefix = uniqueName('j');
  const names = ['customers', 'orders', 'items', 'products', 'shipping', 'tags', 'order_tags'] as const;
  const [customers, orders, items, products, shipping, tags, orderTags] = names.map((t) => `${prefix}_${t}`) as [string, string, string, string, string, string, string];
  const index = uniqueName('orders');
  const pipeline = {
    version: 1,
    indexes: {
      [index]: {
        table: orders,
        fields: { number: { type: 'keyword', searchable: true } },
        relations: {
          customer: { table: customers, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text', searchable: true }, country: { type: 'keyword', filterable: true } } },
          shipping: { table: shipping, kind: 'one-to-one', on: { region: 'order_region', id: 'order_id' }, fields: { carrier: { type: 'keyword', filterable: true } } },
          items: {
            table: items, kind: 'one-to-many', on: { region: 'order_region', id: 'order_id' }, orderBy: [{ column: 'id' }],
            fields: { qty: { type: 'integer' } },
            relations: { product: { table: products, kind: 'many-to-one', on: { product_id: 'id' }, fields: { title: { type: 'text', searchable: true }, category: { type: 'keyword', filterable: true } } } },
          },
          tags: {
            table: tags, kind: 'many-to-many', on: { id: 'order_id' }, through: { table: orderTags, on: { tag_id: 'id' } }, orderBy: [{ column: 'label' }],
            fields: { label: { type: 'keyword', filterable: true } },
          },
        },
      },
    },
  };
  const tables = [orders, customers, items, products, shipping, tags, orderTags];
  const TAGS = 8;

  /** `size.items` items spread over the orders; two tags per order; a shipping row for two orders in three. */
  async function create(db: Client, size = { orders: 50, items: 200 }): Promise<void> {
    const n = size.orders;
    await db.query(`CREATE TABLE ${customers} (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL)`);
    await db.query(`CREATE TABLE ${products} (id int PRIMARY KEY, title text NOT NULL, category text NOT NULL)`);
    await db.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, region text NOT NULL, number text NOT NULL, customer_id int)`);
    await db.query(`CREATE TABLE ${items} (region text, id int, order_region text, order_id int, product_id int, qty int NOT NULL, PRIMARY KEY (region, id))`);
    await db.query(`CREATE TABLE ${shipping} (order_region text, order_id int, carrier text NOT NULL, PRIMARY KEY (order_region, order_id))`);
    await db.query(`CREATE TABLE ${tags} (id int PRIMARY KEY, label text NOT NULL)`);
    await db.query(`CREATE TABLE ${orderTags} (order_id int, tag_id int, PRIMARY KEY (order_id, tag_id))`);
    await db.query(`CREATE INDEX ON ${items} (order_region, order_id)`);
    await db.query(`CREATE INDEX ON ${orders} (customer_id)`);
    await db.query(`CREATE INDEX ON ${orderTags} (tag_id)`);
    await db.query(`INSERT INTO ${customers} SELECT i, 'customer ' || i, CASE WHEN i % 2 = 0 THEN 'fr' ELSE 'de' END FROM generate_series(1, 5) i`);
    await db.query(`INSERT INTO ${products} SELECT i, 'product ' || i, 'toys' FROM generate_series(1, 10) i`);
    await db.query(`INSERT INTO ${orders} SELECT i, ${regionOf('i')}, 'N-' || i, 1 + i % 5 FROM generate_series(1, ${n}) i`);
    await db.query(`INSERT INTO ${items} SELECT 'r' || i % 3, i, ${regionOf(`(1 + i % ${n})`)}, 1 + i % ${n}, 1 + i % 10, i % 7 FROM generate_series(1, ${size.items}) i`);
    await db.query(`INSERT INTO ${shipping} SELECT region, id, CASE WHEN id % 3 = 1 THEN 'ups' ELSE 'dhl' END FROM ${orders} WHERE id % 3 <> 0`);
    await db.query(`INSERT INTO ${tags} SELECT i, 'tag ' || (${TAGS} - i) FROM generate_series(1, ${TAGS}) i`);
    await db.query(`INSERT INTO ${orderTags} SELECT o, 1 + (o * 7 + k) % ${TAGS} FROM generate_series(1, ${n}) o, generate_series(0, 1) k`);
  }
  const regionOf = (id: string): string => `CASE WHEN ${id} % 2 = 0 THEN 'eu' ELSE 'us' END`;

  /** The configured field columns of each joined table (the pipeline above, written out again for the checker). */
  const FIELDS: Record<string, readonly string[]> = { [customers]: ['name', 'country'], [shipping]: ['carrier'], [items]: ['qty'], [products]: ['title', 'category'], [tags]: ['label'] };

  /**
   * Every order's document as SQL computes it, `_refs` aside (the pipeline's own bookkeeping),
   * from the catalog as it is now and the rows: a configured column that is gone (dropped,
   * renamed) is in no document, an added one in none either, and a value is written by its
   * column's type now (int8 and numeric as their exact text, like change events carry them).
   * `ids`: only those orders (a sample of a large table), else every order.
   */
  async function expectedDocs(db: Client, ids?: readonly number[]): Promise<Map<string, string>> {
    const cols = await db.query<{ t: string; c: string; type: string }>(
      `SELECT table_name AS t, column_name AS c, data_type AS type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY($1::text[])`, [tables]);
    const typeOf = new Map(cols.rows.map((r) => [`${r.t}.${r.c}`, r.type]));
    const value = (alias: string, table: string, c: string): string => (['bigint', 'numeric'].includes(typeOf.get(`${table}.${c}`)!) ? `to_jsonb(${alias}.${c}::text)` : `to_jsonb(${alias}.${c})`);
    const obj = (alias: string, table: string, extra = ''): string =>
      `jsonb_build_object(${[...FIELDS[table]!.filter((c) => typeOf.has(`${table}.${c}`)).map((c) => `'${c}', ${value(alias, table, c)}`), ...(extra ? [extra] : [])].join(', ')})`;
    // A relation whose join columns cannot be compared any more (one retyped to text) is in no document.
    const NUMBERS = ['smallint', 'integer', 'bigint', 'numeric'];
    const joinable = (pairs: Array<[string, string, string, string]>): boolean => pairs.every(([ta, a, tb, b]) => {
      const [x, y] = [typeOf.get(`${ta}.${a}`), typeOf.get(`${tb}.${b}`)];
      return x === y || (NUMBERS.includes(x!) && NUMBERS.includes(y!));
    });
    const shippingPart = joinable([[orders, 'id', shipping, 'order_id'], [orders, 'region', shipping, 'order_region']])
      ? `'shipping', (SELECT ${obj('s', shipping)} FROM ${shipping} s WHERE s.order_region = o.region AND s.order_id = o.id),` : '';
    // An orderBy column that is gone: the rows are in key order.
    const byLabel = typeOf.has(`${tags}.label`) ? 't.label, ' : '';
    const { rows } = await db.query<{ id: number; doc: unknown }>(`
      SELECT o.id, jsonb_build_object(
        'number', o.number,
        'customer', (SELECT ${obj('c', customers)} FROM ${customers} c WHERE c.id = o.customer_id),
        ${shippingPart}
        'items', coalesce((SELECT jsonb_agg(${obj('i', items, `'product', (SELECT ${obj('p', products)} FROM ${products} p WHERE p.id = i.product_id)`)} ORDER BY i.id, i.region)
                   FROM ${items} i WHERE i.order_region = o.region AND i.order_id = o.id), '[]'::jsonb),
        'tags', coalesce((SELECT jsonb_agg(${obj('t', tags)} ORDER BY ${byLabel}t.id)
                   FROM ${orderTags} ot JOIN ${tags} t ON t.id = ot.tag_id WHERE ot.order_id = o.id), '[]'::jsonb)) AS doc
      FROM ${orders} o${ids ? ' WHERE o.id = ANY($1::int[])' : ''}`, ids ? [ids] : []);
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
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length) - 1]!;
  let nextItem = 100_000;
  let nextOrder = 100_000;
  /** The region of an order now, or a guess when it does not exist (the row then joins no document). */
  const regionNow = (idParam: string): string => `coalesce((SELECT region FROM ${orders} WHERE id = ${idParam}), 'eu')`;
  const randomItem = `(SELECT region, id FROM ${items} ORDER BY random() LIMIT 1)`;
  const randomLink = `(SELECT order_id, tag_id FROM ${orderTags} ORDER BY random() LIMIT 1)`;
  const randomShipping = `(SELECT order_region, order_id FROM ${shipping} ORDER BY random() LIMIT 1)`;

  /** Moves item `id` to order `orderId` (both columns of the composite foreign key). */
  const moveItem = (db: Client, id: number, orderId: number) => db.query(`UPDATE ${items} SET order_region = ${regionNow('$2')}, order_id = $2 WHERE id = $1`, [id, orderId]);

  /**
   * One random write to one of the seven tables: foreign-key moves (an item, a shipping row, a
   * link; an order changing region leaves its items and shipping behind), child and root
   * deletes, links inserted and deleted, shared parents (customer, product, tag) renamed, and now
   * and then a truncate of the through table. Each write is one transaction.
   */
  const writes: Array<[number, (db: Client, orderIds: number) => Promise<unknown>]> = [
    [12, (db, n) => db.query(`UPDATE ${items} SET order_region = ${regionNow('$1')}, order_id = $1 WHERE (region, id) = ${randomItem}`, [rnd(n)])],
    [6, (db) => db.query(`DELETE FROM ${items} WHERE (region, id) = ${randomItem}`)],
    [9, (db, n) => db.query(`INSERT INTO ${items} VALUES ($1, $2, ${regionNow('$3')}, $3, $4, $5) ON CONFLICT DO NOTHING`, [`r${rnd(3)}`, nextItem++, rnd(n), rnd(10), rnd(9)])],
    [6, (db) => db.query(`UPDATE ${items} SET qty = qty + 1, product_id = $1 WHERE (region, id) = ${randomItem}`, [rnd(10)])],
    [4, (db, n) => db.query(`DELETE FROM ${orders} WHERE id = $1`, [rnd(n)])],
    [4, (db, n) => db.query(`INSERT INTO ${orders} VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [rnd(n), pick(['eu', 'us']), `N-${nextOrder++}`, rnd(5)])],
    [4, (db, n) => db.query(`UPDATE ${orders} SET customer_id = $1 WHERE id = $2`, [rnd(5), rnd(n)])],
    [3, (db, n) => db.query(`UPDATE ${orders} SET region = CASE region WHEN 'eu' THEN 'us' ELSE 'eu' END WHERE id = $1`, [rnd(n)])],
    [5, (db) => db.query(`UPDATE ${customers} SET name = name || '+' WHERE id = $1`, [rnd(5)])],
    [5, (db) => db.query(`UPDATE ${products} SET title = title || '*', category = $2 WHERE id = $1`, [rnd(10), pick(['toys', 'books', 'games'])])],
    [3, async (db) => {
      const c = rnd(5);
      await db.query(`BEGIN; UPDATE ${customers} SET country = 'xx' WHERE id = ${c}; UPDATE ${items} SET qty = 0 WHERE order_id = ${c}; COMMIT`);
    }],
    // one-to-one, composite key: upserted, deleted, moved to another order (its primary key changes)
    [5, (db, n) => db.query(`INSERT INTO ${shipping} SELECT region, id, $2 FROM ${orders} WHERE id = $1 ON CONFLICT (order_region, order_id) DO UPDATE SET carrier = excluded.carrier`, [rnd(n), pick(['ups', 'dhl', 'fedex'])])],
    [3, (db) => db.query(`DELETE FROM ${shipping} WHERE (order_region, order_id) = ${randomShipping}`)],
    [3, (db, n) => db.query(`UPDATE ${shipping} s SET order_region = ${regionNow('$1')}, order_id = $1 WHERE (s.order_region, s.order_id) = ${randomShipping}
                               AND NOT EXISTS (SELECT 1 FROM ${shipping} x WHERE x.order_id = $1 AND x.order_region = ${regionNow('$1')})`, [rnd(n)])],
    // many-to-many: links inserted, deleted, moved; tags renamed (which reorders the arrays)
    [8, (db, n) => db.query(`INSERT INTO ${orderTags} VALUES ($1, $2) ON CONFLICT DO NOTHING`, [rnd(n), rnd(TAGS)])],
    [6, (db) => db.query(`DELETE FROM ${orderTags} WHERE (order_id, tag_id) = ${randomLink}`)],
    [3, (db, n) => db.query(`UPDATE ${orderTags} l SET order_id = $1 WHERE (l.order_id, l.tag_id) = ${randomLink}
                               AND NOT EXISTS (SELECT 1 FROM ${orderTags} x WHERE x.order_id = $1 AND x.tag_id = l.tag_id)`, [rnd(n)])],
    [5, (db) => db.query(`UPDATE ${tags} SET label = $2 WHERE id = $1`, [rnd(TAGS), `tag ${rnd(20)}`])],
    [0.7, (db) => db.query(`TRUNCATE ${orderTags}`)],
  ];
  const total = writes.reduce((s, [w]) => s + w, 0);
  async function randomWrite(db: Client, orderIds = 60): Promise<void> {
    let r = Math.random() * total;
    for (const [w, write] of writes) {
      if ((r -= w) < 0) {
        await write(db, orderIds);
        return;
      }
    }
  }

  return { prefix, index, customers, orders, items, products, shipping, tags, orderTags, tables, pipeline, create, expectedDocs, verdict, randomWrite, moveItem };
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
