import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client } from 'pg';
import { quiesce } from '../ingest/test-support/harness';
import { joinedModel } from './support/joined-model';
import { startService, stopService, writePipelineFile, type RunningService } from './support/processes';
import { eventually, es, pg, uniqueName } from './support/services';
import { stopJoinedServices } from './support/test-indexer';

/**
 * The snapshot of a new joined index over existing tables (support/joined-model.ts, 20 000 orders
 * and about 110 000 rows in all), with ingest SIGKILLed twice while it copies the root table and the
 * indexer once, under a light random workload on every table: each restarted ingest resumes from the
 * chunk it had saved (never from the start), and afterwards every document equals what SQL
 * computes from Postgres, missing, extra and stale all 0.
 */
// Creating 110 000 rows, then a joined snapshot on a busy machine with three restarts.
jest.setTimeout(900_000);

describe('the snapshot of a joined index, killed and resumed', () => {
  const m = joinedModel();
  const ORDERS = 20_000;
  const slot = `slot_${uniqueName('js').replace(/-/g, '_')}`;
  const groupId = uniqueName('g');
  const root = `public.${m.orders}`;
  let db: Client;
  let writer: Client;
  let client: EsClient;
  let env: Record<string, string>;
  let ingest: RunningService | undefined;
  let indexer: RunningService | undefined;
  const outputs: string[] = [];
  let writing = false;
  let load: Promise<void> = Promise.resolve();
  const note = (text: string): void => void process.stderr.write(`joined-snapshot-sigkill: ${text}\n`);

  /** The root table's saved snapshot progress, or undefined before ingest created it. */
  const progress = async (): Promise<{ rows: number; done: boolean } | undefined> => {
    const r = await db.query<{ rows_done: string; done: boolean }>('SELECT rows_done, done FROM search_pipeline_snapshot WHERE slot_name = $1 AND table_name = $2', [slot, root]).catch(() => ({ rows: [] }));
    return r.rows[0] ? { rows: Number(r.rows[0].rows_done), done: r.rows[0].done } : undefined;
  };

  beforeAll(async () => {
    db = await pg();
    writer = await pg();
    client = es();
    await m.create(db, { orders: ORDERS, items: 2 * ORDERS });
    const file = writePipelineFile('joined-snapshot-kill', m.pipeline);
    env = {
      PIPELINE_CONFIG: file, SLOT_NAME: slot, PUBLICATION_NAME: slot, TOPIC_PREFIX: m.prefix, INDEXER_GROUP_ID: groupId,
      INGEST_SNAPSHOT_CHUNK_ROWS: '500', INGEST_HEARTBEAT_INTERVAL_MS: '200', INDEXER_WATERMARK_INTERVAL_MS: '200', INDEXER_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    writing = false;
    await load.catch(() => undefined);
    await stopJoinedServices({ m, db, es: client, slot, groupId, services: [ingest, indexer] });
    await client.close();
    await writer.end();
    await db.end();
  });

  it('resumes after each kill and ends with every document equal to its SQL', async () => {
    ingest = startService('ingest', env);
    indexer = startService('indexer', env);
    writing = true;
    let writes = 0;
    const started = Date.now();
    load = (async () => {
      while (writing) {
        await m.randomWrite(writer, ORDERS);
        writes++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const slotFree = () => eventually(async () => ((await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot])).rowCount ? undefined : true), 'slot released', 60_000);
    const resumedAt: Array<{ killedAt: number; resumedFrom: number }> = [];
    try {
      let after = 0;
      for (let kill = 0; kill < 2; kill++) {
        // Well inside the root table's copy: past what the last run saved, far from its end.
        const at = await eventually(async () => {
          const p = await progress();
          if (p?.done) throw new Error(`the root table's snapshot finished before kill ${kill + 1}: make it larger`);
          return p && p.rows > after + 1000 ? p.rows : undefined;
        }, `snapshot of ${root} under way`, 240_000);
        outputs.push(ingest.output());
        await stopService(ingest, 'SIGKILL');
        const saved = (await progress())!.rows; // what the killed run had committed
        if (kill === 0) {
          outputs.push(indexer.output());
          await stopService(indexer, 'SIGKILL');
          indexer = startService('indexer', env);
        }
        await slotFree();
        ingest = startService('ingest', env);
        // The restarted run goes on from the saved chunk: the progress it saves next is not below it.
        const next = await eventually(async () => {
          const p = await progress();
          return p && (p.done || p.rows !== saved) ? p.rows : undefined;
        }, 'the restarted snapshot saving progress', 240_000);
        expect(next).toBeGreaterThan(saved);
        resumedAt.push({ killedAt: at, resumedFrom: saved });
        note(`kill ${kill + 1} at ${at} root rows (saved ${saved}), the restarted run saved ${next} next, ${Math.round((Date.now() - started) / 1000)} s`);
        after = next;
      }
      await eventually(async () => ((await progress())?.done ? true : undefined), 'snapshot done', 600_000);
      note(`root table copied, ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      writing = false;
      await load;
    }
    await quiesce(db, slot, 180_000);
    const v = await eventually(async () => {
      const r = await m.verdict(db, client).catch(() => undefined);
      return r && r.missing.length + r.extra.length + r.stale.length === 0 ? r : undefined;
    }, 'every joined document equal to what SQL computes', 300_000).catch(async (err: Error) => {
      const r = await m.verdict(db, client);
      throw new Error(`${err.message}: ${JSON.stringify({ missing: r.missing.length, extra: r.extra.length, stale: r.stale.length, examples: r.examples })}\n${[...outputs, ingest!.output(), indexer!.output()].join('\n').slice(-4000)}`);
    });
    expect({ missing: v.missing.length, extra: v.extra.length, stale: v.stale.length }).toEqual({ missing: 0, extra: 0, stale: 0 });
    expect(resumedAt).toHaveLength(2);
    note(`${(await m.expectedDocs(db)).size} documents checked, ${writes} writes during the snapshot, ${Math.round((Date.now() - started) / 1000)} s in all`);
  });
});
