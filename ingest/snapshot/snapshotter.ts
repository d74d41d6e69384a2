import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import type { Logger } from '../../core/logger';
import { emitWatermark } from '../source/pg-messages';
import type { ChunkWindows } from './chunk-window';
import { failRequest, saveRequestProgress, type ResnapshotRequest } from './resnapshot-requests';
import { saveProgress, type TableProgress } from './snapshot-state';
import { countRows, describeTable, keyTexts, readChunk, readKeys, readRangeChunk } from './table-reader';
import { tupleKey, type RawTuple, type RelationInfo } from '../transform/to-change-events';

export interface SnapshotProgress {
  onTotal(table: string, rows: number): void;
  onDone(table: string, rows: number): void;
  /** After each chunk: rows per second of this run and the estimated seconds left. */
  onRate?(table: string, rowsPerSec: number, etaSec: number): void;
}

/**
 * The reading side of the watermark snapshot: for each pending table, chunk by chunk in primary-
 * key order, emit the low watermark, read the chunk, emit the high watermark, then wait until the
 * stream published the chunk and Kafka acknowledged it (ChunkWindows) before saving the position.
 * Runs beside the stream on its own connection; a crash resumes from the last saved chunk.
 */
export function createSnapshotter(deps: { db: Client; slot: string; chunkRows: number; copies?: (table: string) => boolean; windows: ChunkWindows; progress: SnapshotProgress; log: Logger }) {
  const { db, slot, chunkRows, windows, log } = deps;
  const run = randomBytes(4).toString('hex'); // chunk ids of an earlier run, re-read after a restart, are ignored
  let seq = 0;
  let stopped = false;

  /** Copies the table from its saved position; false when it was set to be copied again meanwhile. */
  async function copyTable(p: TableProgress): Promise<boolean> {
    if (deps.copies && !deps.copies(p.table)) {
      // Only joined documents read it (a related table): each root row's snapshot read makes the
      // indexer build its document from the database, related rows included, so none is copied.
      // Its changes from the slot on are streamed as for every table.
      await saveProgress(db, slot, { ...p, rowsTotal: 0, done: true });
      deps.progress.onTotal(p.table, 0);
      log.info('snapshot of table skipped: only joined documents read it, built from the database by their root table\'s snapshot', { table: p.table });
      return true;
    }
    const [schema, table] = splitName(p.table);
    const relation = await describeTable(db, schema, table);
    const total = p.rowsTotal ?? (await countRows(db, schema, table));
    const state: TableProgress = { ...p, rowsTotal: total };
    deps.progress.onTotal(p.table, total);
    deps.progress.onDone(p.table, state.rowsDone);
    const started = Date.now();
    let readThisRun = 0;
    log.info('snapshot of table starting', { table: p.table, rowsTotal: total, resumeAfterRows: state.rowsDone });
    while (!stopped) {
      const id = `${run}:${seq++}`;
      const chunk = { id, relation, rows: undefined as Awaited<ReturnType<typeof readChunk>> | undefined };
      const acked = windows.expect(chunk);
      acked.catch(() => undefined); // rejected only by abort; awaited below unless a query failed first
      await emitWatermark(db, { slot, chunk: id, mark: 'low' });
      const rows = await readChunk(db, relation, state.lastKey, chunkRows);
      const last = rows[rows.length - 1];
      chunk.rows = rows;
      await emitWatermark(db, { slot, chunk: id, mark: 'high' });
      const result = await acked;
      state.rowsDone += rows.length;
      readThisRun += rows.length;
      if (last) state.lastKey = keyTexts(relation, last);
      state.done = rows.length < chunkRows;
      if (!(await saveProgress(db, slot, state))) {
        log.info('snapshot of table restarts from the start: it was set to be copied again', { table: p.table });
        return false;
      }
      deps.progress.onDone(p.table, state.rowsDone);
      const rate = readThisRun / Math.max(0.001, (Date.now() - started) / 1000);
      const left = Math.max(0, total - state.rowsDone);
      const etaSec = state.done ? 0 : Math.round(left / Math.max(rate, 1));
      deps.progress.onRate?.(p.table, rate, etaSec);
      log.info('snapshot progress', { table: p.table, rowsDone: state.rowsDone, rowsTotal: total, rowsPerSec: Math.round(rate), etaSec, published: result.emitted, leftToStream: result.skipped });
      if (state.done) {
        log.info('snapshot of table done', { table: p.table, rows: state.rowsDone });
        return true;
      }
    }
    return true;
  }

  /** One chunk through the windows: low watermark, `read`, high watermark, acknowledged by Kafka. */
  async function copyChunk(relation: RelationInfo, read: () => Promise<{ rows: RawTuple[]; absent?: RawTuple[] }>) {
    const id = `${run}:${seq++}`;
    const chunk: { id: string; relation: RelationInfo; rows?: RawTuple[]; absent?: RawTuple[] } = { id, relation };
    const acked = windows.expect(chunk);
    acked.catch(() => undefined); // rejected only by abort; awaited below unless a query failed first
    await emitWatermark(db, { slot, chunk: id, mark: 'low' });
    let got: { rows: RawTuple[]; absent?: RawTuple[] };
    try {
      got = await read();
    } catch (err) {
      windows.abort(err); // the low watermark alone publishes nothing
      throw err;
    }
    chunk.absent = got.absent;
    chunk.rows = got.rows;
    await emitWatermark(db, { slot, chunk: id, mark: 'high' });
    return { rows: got.rows, result: await acked };
  }

  /**
   * Copies a re-snapshot request (resnapshot-requests.ts) from its saved position: a key range in
   * key order, or a list of keys (found rows copied, the others deleted), chunk by chunk, through
   * the same windows as a table's snapshot, so nothing it publishes can overwrite a newer change.
   */
  async function copyRequest(r: ResnapshotRequest): Promise<void> {
    const [schema, table] = splitName(r.table);
    let relation: RelationInfo;
    try {
      relation = await describeTable(db, schema, table);
    } catch (err) {
      await failRequest(db, r.id, `cannot read ${r.table}: ${(err as Error).message}`);
      log.warn('re-snapshot request failed', { id: r.id, table: r.table, err });
      return;
    }
    const state = { ...r };
    log.info('re-snapshot starting', { id: r.id, table: r.table, from: r.from, to: r.to, keys: r.keys?.length, reason: r.reason, resumeAfterRows: r.rowsDone });
    while (!stopped && !state.done) {
      let rows: RawTuple[];
      try {
        if (state.keys) {
          const slice = state.keys.slice(state.keysDone, state.keysDone + chunkRows);
          const tuples = slice.map((k) => Object.fromEntries(relation.keyColumns.map((c, i) => [c, k[i] ?? null])) as RawTuple);
          ({ rows } = await copyChunk(relation, async () => {
            const found = await readKeys(db, relation, slice);
            const present = new Set(found.map((f) => tupleKey(relation, f)));
            return { rows: found, absent: tuples.filter((t) => !present.has(tupleKey(relation, t))) };
          }));
          state.keysDone += slice.length;
          state.done = state.keysDone >= state.keys.length;
        } else {
          ({ rows } = await copyChunk(relation, async () => ({ rows: await readRangeChunk(db, relation, state, state.lastKey, chunkRows) })));
          const last = rows[rows.length - 1];
          if (last) state.lastKey = keyTexts(relation, last);
          state.done = rows.length < chunkRows;
        }
      } catch (err) {
        // A key that is not a value of the key's type (22xxx: data exception) can never have a row: the request is wrong, not ingest.
        if (stopped || !/^22/.test((err as { code?: string }).code ?? '')) throw err;
        await failRequest(db, r.id, `Postgres refused its keys: ${(err as Error).message}`);
        log.warn('re-snapshot request failed: Postgres refused its keys', { id: r.id, table: r.table, err });
        return;
      }
      state.rowsDone += rows.length;
      await saveRequestProgress(db, state);
      log.info(state.done ? 're-snapshot done' : 're-snapshot progress', { id: r.id, table: r.table, rowsDone: state.rowsDone, ...(state.keys ? { keysDone: state.keysDone, keys: state.keys.length } : {}) });
    }
  }

  return {
    /**
     * Copies every pending table, one after another, then every open re-snapshot request; `pending`
     * and `requests` read them (again after a table was set to be copied again, or a request came in,
     * while it ran). Resolves when nothing is pending or when stopped.
     */
    async run(pending: () => Promise<readonly TableProgress[]>, requests: () => Promise<readonly ResnapshotRequest[]> = async () => []): Promise<void> {
      try {
        for (;;) {
          const tables = await pending();
          if (stopped) return;
          if (tables.length) {
            for (const t of tables) {
              if (stopped) return;
              await copyTable(t);
            }
            continue;
          }
          const open = await requests();
          if (!open.length || stopped) return;
          await copyRequest(open[0]!); // one at a time, and tables first again: a schema change may have come in
        }
      } catch (err) {
        windows.abort(err);
        if (!stopped) throw err;
      }
    },
    stop(): void {
      stopped = true;
      windows.abort(new Error('snapshot stopped'));
    },
  };
}

function splitName(qualified: string): [string, string] {
  const dot = qualified.indexOf('.');
  return [qualified.slice(0, dot), qualified.slice(dot + 1)];
}
