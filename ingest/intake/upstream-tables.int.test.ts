import type { Client } from 'pg';
import { pg, uniqueName } from '../../e2e/support/services';
import { refusePublishedUpstreamTables } from './upstream-tables';

/** Real Postgres: a table moved to INGEST_HTTP_TABLES while the publication still streams it is refused. */
describe('refusePublishedUpstreamTables', () => {
  const table = uniqueName('moved');
  const publication = uniqueName('pub');
  let db: Client;
  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
  });
  afterAll(async () => {
    await db.query(`DROP PUBLICATION IF EXISTS ${publication}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  it('names the table, the publication and the statement that fixes it', async () => {
    await expect(refusePublishedUpstreamTables(db, publication, [`public.${table}`, 'public.other'])).rejects.toThrow(
      `INGEST_HTTP_TABLES lists public.${table}, which publication ${publication} still captures from Postgres; a table takes versions from one source only. Run ALTER PUBLICATION ${publication} DROP TABLE public.${table};`,
    );
  });

  it('passes once the table left the publication, or for a publication that does not exist', async () => {
    await db.query(`ALTER PUBLICATION ${publication} DROP TABLE ${table}`);
    await expect(refusePublishedUpstreamTables(db, publication, [`public.${table}`])).resolves.toBeUndefined();
    await expect(refusePublishedUpstreamTables(db, uniqueName('nopub'), [`public.${table}`])).resolves.toBeUndefined();
  });
});
