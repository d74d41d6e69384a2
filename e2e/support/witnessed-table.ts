import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { createWitnessSlot, dropPipelineObjects } from '../../ingest/test-support/harness';
import { eventually, uniqueName } from './services';

/**
 * The set-up of the e2e tests that run the real ingest process on one table and check Kafka
 * against commit end LSNs: the table `(id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)`, a
 * witness slot (test_decoding) the test owns, and a pipeline file indexing the table. The names
 * are fixed when called, so a describe block can use them before its beforeAll.
 */
export function witnessedTable(name: string) {
  const table = uniqueName(name);
  const slot = uniqueName('slot');
  const witness = uniqueName('witness');
  const prefix = uniqueName('e2e');
  let dir: string | undefined;
  return {
    table, slot, witness, prefix, topic: `${prefix}.public.${table}`,
    /** Creates the table and the witness slot; returns the pipeline file: `index` over the table with `fields`. */
    async create(db: Client, index: string, fields: Record<string, unknown>): Promise<string> {
      await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)`);
      await createWitnessSlot(db, witness);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
      const file = path.join(dir, 'pipeline.json');
      fs.writeFileSync(file, JSON.stringify({ version: 1, indexes: { [index]: { table, fields } } }));
      return file;
    },
    /** Drops the witness slot, what ingest created and the table, and the pipeline file; after ingest stopped. */
    async drop(db: Client): Promise<void> {
      await db.query('SELECT pg_drop_replication_slot($1)', [witness]).catch(() => undefined);
      await dropPipelineObjects(db, slot, [table]);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once ingest on `slot` finished its snapshot: it streams. */
export async function ingestStreaming(db: Client, slot: string, what: string, timeoutMs: number): Promise<void> {
  await eventually(async () => ((await db.query(`SELECT 1 FROM search_pipeline_snapshot WHERE slot_name = $1 AND done`, [slot]).catch(() => ({ rowCount: 0 }))).rowCount ? true : undefined), what, timeoutMs);
}
