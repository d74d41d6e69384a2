import { Client } from 'pg';
import type { Logger } from '../../core/logger';
import type { ChunkWindows } from './chunk-window';
import { awaitOlderTransactions } from './older-transactions';
import { failRequest, pendingRequests } from './resnapshot-requests';
import { pendingTables } from './snapshot-state';
import { createSnapshotter, type SnapshotProgress } from './snapshotter';

export interface SnapshotRunnerDeps {
  connectionString: string;
  slot: string;
  chunkRows: number;
  /** Whether a pending table is copied; one that is not is marked done (snapshotter.ts). */
  copies?: (table: string) => boolean;
  /** The tables this ingest captures (`schema.table`): a re-snapshot request for another one is refused. */
  tables: readonly string[];
  windows: ChunkWindows;
  progress: SnapshotProgress;
  log: Logger;
  onFatal: (err: unknown) => void;
}

/**
 * Runs the watermark snapshot of the pending tables on its own connection, and again whenever a
 * table is set to be copied again (a schema change) while it runs or after it finished; then the
 * open re-snapshot requests (resnapshot-requests.ts). What is pending lives in tables of the source
 * database, so a request survives a crash: the next start copies it.
 */
export function createSnapshotRunner(deps: SnapshotRunnerDeps) {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let stopCurrent: (() => Promise<void>) | undefined;

  async function runOnce(): Promise<void> {
    const db = new Client({ connectionString: deps.connectionString });
    db.on('error', () => undefined); // surfaces as the failing query's error
    const snapshotter = createSnapshotter({ db, slot: deps.slot, chunkRows: deps.chunkRows, copies: deps.copies, windows: deps.windows, log: deps.log, progress: deps.progress });
    const stopWaiting = new AbortController();
    stopCurrent = async () => {
      stopWaiting.abort();
      snapshotter.stop();
      await db.end().catch(() => undefined);
    };
    try {
      await db.connect();
      // Only tables that joined the publication need it; a re-snapshot of a captured table does not.
      if ((await pendingTables(db, deps.slot)).length) await awaitOlderTransactions(db, deps.log, { signal: stopWaiting.signal });
      await snapshotter.run(() => pendingTables(db, deps.slot), async () => {
        const open = await pendingRequests(db, deps.slot);
        for (const r of open.filter((o) => !deps.tables.includes(o.table))) {
          await failRequest(db, r.id, `${r.table} is not captured by this pipeline (tables: ${deps.tables.join(', ')})`);
          deps.log.warn('re-snapshot request refused: its table is not captured by this pipeline', { id: r.id, table: r.table });
        }
        return open.filter((o) => deps.tables.includes(o.table));
      });
    } catch (err) {
      if (!stopWaiting.signal.aborted) deps.onFatal(err); // a query cut by stop() is not a failure
    } finally {
      stopCurrent = undefined;
      await db.end().catch(() => undefined);
    }
  }

  return {
    /** Copies what is pending now; while a run is going, one more run follows it. */
    request(): void {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = runOnce().finally(() => {
        running = undefined;
        if (again) {
          again = false;
          this.request();
        }
      });
    },
    /** Resolves once no run is going and none is asked for. */
    async idle(): Promise<void> {
      while (running) await running;
    },
    async stop(): Promise<void> {
      stopped = true;
      again = false;
      await stopCurrent?.();
      await running;
    },
  };
}
export type SnapshotRunner = ReturnType<typeof createSnapshotRunner>;
