import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { quiesce } from '../ingest/test-support/harness';
import { joinedModel } from './support/joined-model';
import { startService, stopService, writePipelineFile, type RunningService } from './support/processes';
import { es, eventually, pg, uniqueName } from './support/services';
import { stopJoinedServices } from './support/test-indexer';

/**
 * Joined documents with ingest and the indexer SIGKILLed again and again (real processes) while a
 * random workload writes to all seven tables of the model (support/joined-model.ts: many-to-one,
 * one-to-one and one-to-many on composite keys, many-to-many through a join table; foreign-key
 * moves, links inserted and deleted, tags renamed, truncates of the through table): afterwards every
 * document equals what one SQL query computes from Postgres, missing, extra and stale all 0.
 */
describe('joined documents with ingest and the indexer killed repeatedly', () => {
  const m = joinedModel();
  const slot = `slot_${uniqueName('jk').replace(/-/g, '_')}`;
  const groupId = uniqueName('g');
  let db: Client;
  let writer: Client;
  let client: EsClient;
  let env: Record<string, string>;
  let ingest: RunningService;
  let indexer: RunningService;
  const outputs: string[] = [];

  beforeAll(async () => {
    db = await pg();
    writer = await pg();
    client = es();
    await m.create(db, { orders: 80, items: 300 });
    const file = writePipelineFile('joined-kill', m.pipeline);
    env = {
      PIPELINE_CONFIG: file, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: m.prefix, INDEXER_GROUP_ID: groupId,
      INGEST_HEARTBEAT_INTERVAL_MS: '200', INDEXER_WATERMARK_INTERVAL_MS: '100', INDEXER_SESSION_TIMEOUT_MS: '6000', INDEXER_JOIN_BATCH_KEYS: '16', LOG_LEVEL: 'warn',
    };
    ingest = startService('ingest', env);
    indexer = startService('indexer', env);
  });

  afterAll(async () => {
    await stopJoinedServices({ m, db, es: client, slot, groupId, services: [ingest, indexer] });
    await client.close();
    await writer.end();
    await db.end();
  });

  it('ends with every document equal to its SQL: missing = extra = stale = 0', async () => {
    let writing = true;
    let writes = 0;
    const load = (async () => {
      while (writing) {
        await m.randomWrite(writer, 90);
        writes++;
      }
    })();
    // Killed before it created the slot, there is none; otherwise Postgres frees it once it sees the connection gone.
    const slotFree = () => eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot])).rowCount ? undefined : true), 'slot released', 60_000);
    const kills = { ingest: 0, indexer: 0 };
    try {
      for (let round = 0; round < 6; round++) {
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
        if (round % 2 === 0) {
          outputs.push(ingest.output());
          await stopService(ingest, 'SIGKILL');
          kills.ingest++;
          await slotFree(); // a supervisor's restart would wait the same way
          ingest = startService('ingest', env);
        } else {
          outputs.push(indexer.output());
          await stopService(indexer, 'SIGKILL');
          kills.indexer++;
          indexer = startService('indexer', env);
        }
      }
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      writing = false;
      await load;
    }
    expect(writes).toBeGreaterThan(100);
    // Quiet: the slot confirmed past the last write, then the indexer has caught up.
    await eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount ? true : undefined), 'slot exists', 60_000);
    await quiesce(db, slot, 120_000);
    const v = await eventually(async () => {
      const r = await m.verdict(db, client).catch(() => undefined);
      return r && r.missing.length + r.extra.length + r.stale.length === 0 ? r : undefined;
    }, 'every joined document equal to what SQL computes', 120_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await m.verdict(db, client))}\n${[...outputs, ingest.output(), indexer.output()].join('\n').slice(-4000)}`);
    });
    expect({ missing: v.missing.length, extra: v.extra.length, stale: v.stale.length }).toEqual({ missing: 0, extra: 0, stale: 0 });
    expect(kills).toEqual({ ingest: 3, indexer: 3 });
    process.stderr.write(`joined-documents-sigkill: ${writes} random writes, ${kills.ingest} ingest and ${kills.indexer} indexer SIGKILLs, ${(await m.expectedDocs(db)).size} documents checked\n`);
  });
});
