import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { dropPipelineObjects } from '../ingest/test-support/harness';
import { allDocs, dropSearchIndex } from './support/indexer-harness';
import { startService, stopService, type RunningService } from './support/processes';
import { es, eventually, pg, uniqueName } from './support/services';

/**
 * A normal first start (new topics, new consumer group, ingest and the indexer racing to create
 * the topics) logs no error-level line: an operator who sees ERROR on every start learns to
 * ignore it. The Kafka client's known-harmless answers are logged below error (core/kafkajs-log.ts).
 */
describe('a fresh start of ingest and the indexer', () => {
  const table = uniqueName('quiet');
  const slot = uniqueName('slot');
  const prefix = uniqueName('e2e');
  const index = uniqueName('quiet');
  const elastic = es();
  let db: Client;
  let dir: string;
  const services: RunningService[] = [];

  beforeAll(async () => {
    db = await pg();
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text NOT NULL)`);
    await db.query(`INSERT INTO ${table} SELECT i, 'row ' || i FROM generate_series(1, 20) i`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'startup-quiet-'));
  });

  afterAll(async () => {
    for (const s of services) await stopService(s);
    await dropSearchIndex(elastic, index);
    await elastic.close();
    await dropPipelineObjects(db, slot, [table]);
    await db.end();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs no error-level line on its way to indexing the snapshot', async () => {
    const pipelineFile = path.join(dir, 'pipeline.json');
    fs.writeFileSync(pipelineFile, JSON.stringify({ version: 1, indexes: { [index]: { table, fields: { v: { type: 'text', searchable: true } } } } }));
    const common = { PIPELINE_CONFIG: pipelineFile, TOPIC_PREFIX: prefix, LOG_LEVEL: 'info' };
    // Started together, so both create the same new topics at once.
    services.push(startService('indexer', { ...common, INDEXER_GROUP_ID: uniqueName('g') }));
    services.push(startService('ingest', { ...common, SLOT_NAME: slot, PUBLICATION_NAME: slot }));

    await eventually(async () => ((await allDocs(elastic, index).catch(() => undefined))?.size === 20 ? true : undefined), 'the snapshot in the index', 120_000);
    for (const s of services) {
      const errors = s.output().split('\n').filter((line) => line.includes('"level":"error"'));
      expect({ service: s.name, errors }).toEqual({ service: s.name, errors: [] });
      expect(s.child.exitCode).toBeNull();
    }
  }, 180_000);
});
