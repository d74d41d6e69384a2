import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { parsePipelineConfig } from '../../config/pipeline';
import { checkRelations } from './check-relations';

/** The start-time check of relations against a real catalog, in a schema of its own. */
const schema = `joincheck_${randomBytes(4).toString('hex')}`;
let db: Client;

beforeAll(async () => {
  db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.orders (id int PRIMARY KEY, customer_id int, number text);
    CREATE TABLE ${schema}.customers (id int PRIMARY KEY, name text);
    CREATE TABLE ${schema}.items (id int PRIMARY KEY, order_id int, qty int);
    CREATE TABLE ${schema}.notes (order_id int, body text);`);
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

const index = (relations: Record<string, unknown>) => parsePipelineConfig(JSON.stringify({
  version: 1,
  indexes: { orders: { table: `${schema}.orders`, fields: { number: { type: 'keyword', searchable: true } }, relations } },
})).indexes;

describe('checkRelations (real Postgres)', () => {
  it('accepts relations whose tables and columns exist and returns their catalog', async () => {
    const catalog = await checkRelations(db, index({
      customer: { table: `${schema}.customers`, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text' } } },
      items: { table: `${schema}.items`, kind: 'one-to-many', on: { id: 'order_id' }, orderBy: [{ column: 'qty' }], fields: { qty: { type: 'integer' } } },
    }));
    expect(catalog.get(`${schema}.items`)).toMatchObject({ key: ['id'], columns: [{ name: 'id', type: 'integer' }, { name: 'order_id' }, { name: 'qty' }] });
  });

  it('names a missing column with the JSON path and lists the table\'s columns', async () => {
    await expect(checkRelations(db, index({
      items: { table: `${schema}.items`, kind: 'one-to-many', on: { id: 'orderid' }, orderBy: [{ column: 'quantity' }], fields: { qty: { type: 'integer' } } },
    }))).rejects.toThrow(new RegExp([
      `/indexes/orders/relations/items/orderBy: ${schema}\\.items has no column "quantity" \\(in orderBy\\); its columns are id, order_id, qty\\. Fix the name in the pipeline config\\.`,
      `/indexes/orders/relations/items/on: ${schema}\\.items has no column "orderid" \\(a value of "on", this table's side\\)`,
    ].join('[\\s\\S]*')));
  });

  it('names a missing table with the tables its schema has, and a table without a key with the SQL that adds one', async () => {
    const err = await checkRelations(db, index({
      customer: { table: `${schema}.customer`, kind: 'many-to-one', on: { customer_id: 'id' }, fields: { name: { type: 'text' } } },
      notes: { table: `${schema}.notes`, kind: 'one-to-many', on: { id: 'order_id' }, fields: { body: { type: 'text' } } },
    })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RELATIONS_INVALID' });
    expect((err as Error).message).toContain(`/indexes/orders/relations/customer/table: table ${schema}.customer does not exist (tables in schema ${schema}: customers, items, notes, orders). Fix the table name in the pipeline config, or create the table.`);
    expect((err as Error).message).toContain(`/indexes/orders/relations/notes/table: table ${schema}.notes has no primary key: joined documents name each row they hold by its key. Add one, e.g. ALTER TABLE ${schema}.notes ADD PRIMARY KEY (<its unique NOT NULL columns>);`);
  });

  it('checks the parent\'s side of a join and ignores indexes without relations', async () => {
    await expect(checkRelations(db, index({ customer: { table: `${schema}.customers`, kind: 'many-to-one', on: { client_id: 'id' }, fields: { name: { type: 'text' } } } })))
      .rejects.toThrow(`/indexes/orders/relations/customer/on: ${schema}.orders has no column "client_id" (a key of "on", the parent's side); its columns are id, customer_id, number.`);
    const plain = parsePipelineConfig(JSON.stringify({ version: 1, indexes: { x: { table: `${schema}.missing`, fields: { t: { type: 'text', searchable: true } } } } })).indexes;
    await expect(checkRelations(db, plain)).resolves.toEqual(new Map());
  });
});
