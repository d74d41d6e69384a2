import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { es, eventually, pg, uniqueName } from './support/services';
import { freePort, startService, stopService, type RunningService } from './support/processes';

/**
 * Postgres → ingest → Kafka → indexer → Elasticsearch → API, every stage a real process
 * against the real services; assertions go through the public HTTP API only.
 */
describe('pipeline end to end', () => {
  const table = uniqueName('books');
  const index = uniqueName('books');
  const slot = uniqueName('slot');
  let db: Client;
  let api: string;
  const services: RunningService[] = [];
  const elastic = es();

  const search = async (q: string) => {
    const res = await fetch(`${api}/v1/indexes/${index}/search?q=${encodeURIComponent(q)}`);
    if (res.status !== 200) return undefined;
    return (await res.json()) as { total: number; hits: Array<{ id: string; document: Record<string, unknown> }> };
  };
  const hitsFor = async (q: string, expected: number) => {
    const r = await search(q);
    return r && r.total === expected ? r.hits : undefined;
  };

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, title text NOT NULL, author text, year int)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-'));
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { title: { type: 'text', searchable: true, boost: 2 }, author: { type: 'text', searchable: true }, year: { type: 'integer', sortable: true } } } } }));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const env = { PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: uniqueName('e2e'), INDEXER_GROUP_ID: uniqueName('g'), API_PORT: String(port), API_URL: api };
    services.push(startService('ingest', env), startService('indexer', env), startService('api', env));
    await eventually(async () => ((await fetch(`${api}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 'api ready');
    await eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount ? true : undefined), 'slot created by ingest');
    await eventually(async () => ((await elastic.indices.exists({ index })) ? true : undefined), 'index created by indexer');
  });

  afterAll(async () => {
    for (const s of services) {
      const code = await stopService(s);
      if (code !== 0) process.stderr.write(`${s.name} exited ${code}:\n${s.output().slice(-3000)}\n`);
    }
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    await elastic.close();
  });

  it('makes an insert searchable, then an update, then a delete', async () => {
    await db.query(`INSERT INTO ${table} VALUES (1, 'The Left Hand of Darkness', 'Ursula K. Le Guin', 1969), (2, 'Dune', 'Frank Herbert', 1965)`);
    const [hit] = await eventually(() => hitsFor('darkness', 1), 'inserted row searchable');
    expect(hit).toMatchObject({ id: '1', document: { title: 'The Left Hand of Darkness', year: 1969 } });

    await db.query(`UPDATE ${table} SET title = 'The Dispossessed', year = 1974 WHERE id = 1`);
    const [updated] = await eventually(() => hitsFor('dispossessed', 1), 'updated row searchable');
    expect(updated!.document).toMatchObject({ title: 'The Dispossessed', year: 1974 });
    expect(await hitsFor('darkness', 0)).toEqual([]);

    await db.query(`DELETE FROM ${table} WHERE id = 1`);
    await eventually(() => hitsFor('dispossessed', 0), 'deleted row gone');
    expect((await search('dune'))!.hits.map((h) => h.id)).toEqual(['2']);
  });

  it('keeps the second of two updates to one row inside one transaction', async () => {
    await db.query('BEGIN');
    await db.query(`INSERT INTO ${table} VALUES (3, 'Solaris draft', 'Stanislaw Lem', 1960)`);
    await db.query(`UPDATE ${table} SET title = 'Solaris first' WHERE id = 3`);
    await db.query(`UPDATE ${table} SET title = 'Solaris second', year = 1961 WHERE id = 3`);
    await db.query('COMMIT');
    const [hit] = await eventually(() => hitsFor('solaris', 1), 'row 3 searchable');
    expect(hit!.document).toMatchObject({ title: 'Solaris second', year: 1961 });
  });

  it('answers bad input with a clear 4xx through the running API', async () => {
    const res = await fetch(`${api}/v1/indexes/${index}/search?size=1000000`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PARAM_OUT_OF_RANGE');
  });
});
