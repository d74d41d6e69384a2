import { join } from 'node:path';
import type { Client } from 'pg';
import { pg, uniqueName } from '../../e2e/support/services';
import { loadMameDemo } from './mame-load';
import { parseMameRecords } from './mame-parse';
import { mameParents } from './mame-split';

/** The fixture lists loaded into a real Postgres: row counts per table, keys, foreign keys and their indexes. */
describe('loadMameDemo into Postgres', () => {
  const schema = uniqueName('mame');
  let db: Client;
  const count = async (table: string): Promise<number> => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${table}"`)).rows[0]!.n);

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE SCHEMA "${schema}"`);
  });
  afterAll(async () => {
    await db.query(`DROP SCHEMA "${schema}" CASCADE`);
    await db.end();
  });

  it('loads every table with the rows the fixtures hold, and a second load adds none', async () => {
    const records = () => parseMameRecords(join(__dirname, 'fixtures', 'mame-hash'));
    const load = async () => loadMameDemo(db, records(), { software: `${schema}.software`, splitSchema: schema, parents: await mameParents(records()) }, { batchRows: 3 });
    expect(await load()).toEqual({ software: 10, software_lists: 4, publishers: 8, titles: 10, parts: 14 });
    for (const [table, n] of Object.entries({ software: 10, software_lists: 4, publishers: 8, titles: 10, parts: 14 })) expect([table, await count(table)]).toEqual([table, n]);
    expect(await load()).toEqual({ software: 0, software_lists: 0, publishers: 0, titles: 0, parts: 0 });
    expect(await count('parts')).toBe(14);
  });

  it('joins back to the flat table: same titles, publishers, list descriptions and rom bytes', async () => {
    const { rows } = await db.query<{ n: string }>(`
      SELECT count(*) AS n FROM "${schema}".software s
      JOIN "${schema}".titles t ON t.id = s.id
      JOIN "${schema}".software_lists l ON l.name = t.list
      LEFT JOIN "${schema}".publishers p ON p.id = t.publisher_id
      WHERE t.title = s.title AND l.description IS NOT DISTINCT FROM s.list_description AND p.name IS NOT DISTINCT FROM s.publisher
        AND s.rom_bytes = (SELECT coalesce(sum(rom_bytes), 0) FROM "${schema}".parts WHERE title_id = t.id)`);
    expect(Number(rows[0]!.n)).toBe(10);
  });

  it('declares the primary keys and foreign keys, and indexes the foreign-key columns', async () => {
    const { rows: fks } = await db.query<{ def: string }>(
      `SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' AND connamespace = $1::regnamespace ORDER BY 1`, [schema]);
    expect(fks.map((r) => r.def.replace(/"/g, '').split(`${schema}.`).join(''))).toEqual([
      'parts FOREIGN KEY (title_id) REFERENCES titles(id)',
      'titles FOREIGN KEY (list) REFERENCES software_lists(name)',
      'titles FOREIGN KEY (publisher_id) REFERENCES publishers(id)',
    ]);
    const { rows: idx } = await db.query<{ t: string; def: string }>(`SELECT tablename AS t, indexdef AS def FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2`, [schema]);
    const leading = (t: string) => idx.filter((i) => i.t === t).map((i) => /\((\w+)/.exec(i.def)?.[1]);
    expect(leading('titles')).toEqual(expect.arrayContaining(['id', 'list', 'publisher_id']));
    expect(leading('parts')).toEqual(['title_id']); // the primary key (title_id, position)
    await expect(db.query(`INSERT INTO "${schema}".parts (title_id, position, name) VALUES ('nope:nope', 1, 'x')`)).rejects.toThrow(/foreign key/);
  });
});
