import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { canonicalKey } from '../core/change-event';
import { compareLatestWithRows, confirmedLsn, currentWalLsn, dropPipelineObjects, latestByKey, readAllEvents, snapshotState } from '../ingest/test-support/harness';
import { startService, stopService, type RunningService } from './support/processes';
import { eventually, kafka, pg, uniqueName } from './support/services';

const ROWS = 200_000;
const CHUNK = 2_000;
/** Kill points, as the share of the table the saved progress must have passed first. */
const KILL_AT = [0.2, 0.5, 0.8];

/**
 * docs/reliability.md scenario 7: the initial snapshot of a table that already holds rows,
 * killed with SIGKILL three times while writers insert, update and delete rows of it. After each
 * restart the copy resumes from the progress saved in Postgres (never from the start), and at the
 * end the latest event of every key in Kafka equals the row in Postgres: nothing missing, stale
 * or extra. Resuming is checked by its mechanism: the progress saved before a kill is never lower
 * after the restart, and the snapshot's read events stay far below what restarting from zero at
 * every kill would emit.
 */
describe('initial snapshot killed with SIGKILL midway, repeatedly', () => {
  const table = uniqueName('snapkill');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const topic = `${prefix}.public.${table}`;
  let db: Client;
  let writerDb: Client;
  let ingest: RunningService | undefined;
  let serviceEnv: Record<string, string>;

  beforeAll(async () => {
    db = await pg();
    writerDb = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)`);
    await db.query(`INSERT INTO ${table} SELECT g, 'row ' || g, 0 FROM generate_series(1, ${ROWS}) g`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-sigkill-'));
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [table.replace(/_/g, '-')]: { table, fields: { v: { type: 'text', searchable: true } } } } }));
    serviceEnv = { PIPELINE_CONFIG: pipelineFile, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: prefix, INGEST_SNAPSHOT_CHUNK_ROWS: String(CHUNK), INGEST_HEARTBEAT_INTERVAL_MS: '200', TOPIC_PARTITIONS: '3', LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    if (ingest) await stopService(ingest);
    await dropPipelineObjects(db, slot, [table]);
    await writerDb.end();
    await db.end();
  });

  const progress = async (): Promise<{ done: number; finished: boolean }> => {
    const row = (await snapshotState(db, slot).catch(() => []))[0];
    return { done: Number(row?.rows_done ?? 0), finished: row?.done ?? false };
  };

  it('resumes after every kill and ends with every row in Kafka as it is in Postgres', async () => {
    // Writers all along, also while ingest is down: updates and deletes across the key range
    // (ahead of and behind the copy) and inserts beyond it.
    let writing = true;
    let nextId = ROWS + 1;
    let ops = 0;
    const writer = (async () => {
      while (writing) {
        const id = 1 + Math.floor(Math.random() * (nextId - 1));
        const roll = ops++ % 10;
        if (roll < 6) await writerDb.query(`UPDATE ${table} SET v = $2, n = n + 1 WHERE id = $1`, [id, `updated ${ops}`]);
        else if (roll < 8) await writerDb.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
        else await writerDb.query(`INSERT INTO ${table} VALUES ($1, $2, 0)`, [nextId++, `inserted ${ops}`]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const kills: string[] = [];
    ingest = startService('ingest', serviceEnv);
    for (const share of KILL_AT) {
      // Polled tightly: a chunk takes tens of milliseconds, and the kill must land mid-copy.
      let at = await progress();
      for (const until = Date.now() + 300_000; at.done < ROWS * share; at = await progress()) {
        if (at.finished) throw new Error(`the snapshot finished before the kill at ${share * 100} % (rows done ${at.done}); make the table bigger`);
        if (Date.now() > until) throw new Error(`snapshot progress stayed at ${at.done} rows`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await stopService(ingest, 'SIGKILL');
      ingest = undefined;
      const saved = (await progress()).done;
      kills.push(`${saved}/${ROWS}`);
      expect(saved).toBeGreaterThanOrEqual(at.done);
      await eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot])).rowCount ? true : undefined), 'slot released');
      await new Promise((r) => setTimeout(r, 300)); // writes while ingest is down
      ingest = startService('ingest', serviceEnv);
      // The restarted ingest resumes: its saved progress never falls back below what was saved.
      await eventually(async () => ((await progress()).done > saved ? true : undefined), 'snapshot progressing again after the restart', 300_000);
    }
    await eventually(async () => ((await progress()).finished ? true : undefined), 'snapshot done', 300_000);
    writing = false;
    await writer;

    const end = await currentWalLsn(db);
    await eventually(async () => (((await confirmedLsn(db, slot)) ?? 0n) >= end ? true : undefined), 'slot confirmed past the last write', 120_000);
    const events = (await readAllEvents(kafka(), topic)).map((m) => m.event);
    const reads = events.filter((e) => e.op === 'r').length;
    const rows = new Map((await db.query<{ id: number; v: string; n: number }>(`SELECT id, v, n FROM ${table}`)).rows.map((r) => [canonicalKey({ id: r.id }), r]));
    const { missing, stale, extra } = compareLatestWithRows(latestByKey(events), rows);
    process.stdout.write(`snapshot-sigkill: kills at ${kills.join(', ')} rows done; snapshot reads ${reads} for ${ROWS} rows (restarting from zero would be >= ${Math.round(ROWS * (1 + KILL_AT.reduce((a, b) => a + b, 0)))}); writes ${ops}; missing=${missing.length} stale=${stale.length} extra=${extra.length}\n`);

    // Each kill may repeat the chunks in flight (not yet acknowledged), never the table.
    expect(reads).toBeLessThan(ROWS + KILL_AT.length * CHUNK * 4);
    expect({ missing: missing.slice(0, 10), stale: stale.slice(0, 10), extra: extra.slice(0, 10) }).toEqual({ missing: [], stale: [], extra: [] });
  }, 900_000);
});
