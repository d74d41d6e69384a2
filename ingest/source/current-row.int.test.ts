import type { Client } from 'pg';
import { pg, uniqueName } from '../../e2e/support/services';
import type { RelationInfo } from '../transform/to-change-events';
import { pgCurrentRowReader } from './current-row';

/**
 * The read of a moved row's unchanged TOAST columns (transform/moved-row.ts) happens as soon as
 * the change is streamed, which can be a moment before other sessions see its transaction: a row
 * not found under its new key is read again until that transaction is visible, and only then
 * taken as gone. Here the transaction is held open, so "not visible yet" lasts as long as the test wants.
 */
describe('reading a row its transaction has not made visible yet', () => {
  const table = uniqueName('current_row');
  let db: Client;
  let writer: Client;
  const relation = { schema: 'public', name: table } as RelationInfo;

  beforeAll(async () => {
    db = await pg();
    writer = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, big text NOT NULL)`);
  });

  afterAll(async () => {
    await db.query(`DROP TABLE ${table}`);
    await writer.end();
    await db.end();
  });

  it('waits for the transaction, then reads the row it wrote', async () => {
    await writer.query('BEGIN');
    await writer.query(`INSERT INTO ${table} VALUES (1, 'the value')`);
    const full = BigInt((await writer.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);
    const xid = Number(full & 0xffffffffn);
    let settled = false;
    const reading = pgCurrentRowReader(db)(relation, { id: '1' }, ['big'], xid).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false); // still waiting: the transaction is not visible
    await writer.query('COMMIT');
    expect(await reading).toEqual({ big: 'the value' });
  });

  it('takes a row as gone at once when its transaction is visible, or when no transaction is given', async () => {
    const { rows } = await db.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
    const visibleXid = Number(BigInt(rows[0]!.x) & 0xffffffffn); // this statement's own, committed by now
    let queries = 0;
    const counted = { query: ((...args: Parameters<Client['query']>) => (queries++, db.query(...args))) as Client['query'] };
    const read = pgCurrentRowReader(counted);
    expect(await read(relation, { id: '2' }, ['big'], visibleXid)).toBeUndefined();
    expect(queries).toBe(3); // the read, the visibility check, the read that settles it
    queries = 0;
    expect(await read(relation, { id: '2' }, ['big'])).toBeUndefined();
    expect(queries).toBe(1);
  });

  it('gives up after its bound when the transaction never becomes visible', async () => {
    await writer.query('BEGIN');
    await writer.query(`INSERT INTO ${table} VALUES (3, 'never committed')`);
    const xid = Number(BigInt((await writer.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x) & 0xffffffffn);
    expect(await pgCurrentRowReader(db, 300)(relation, { id: '3' }, ['big'], xid)).toBeUndefined();
    await writer.query('ROLLBACK');
  });
});
