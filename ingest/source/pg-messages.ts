import type { ClientBase } from 'pg';

/**
 * Logical decoding messages of ours (pg_logical_emit_message). They are transactional, so each
 * gets its own commit LSN and arrives in WAL order with the data changes. Other pipelines on the
 * same database emit theirs under the same prefixes: the content names the slot, and messages
 * for another slot are ignored.
 */
export const HEARTBEAT_PREFIX = 'search_pipeline.heartbeat';
export const WATERMARK_PREFIX = 'search_pipeline.snapshot';
export const REFETCH_PREFIX = 'search_pipeline.refetch';

/** Emits a transactional message; resolves with its LSN (text form). */
export async function emitMessage(db: ClientBase, prefix: string, content: string): Promise<string> {
  const { rows } = await db.query<{ lsn: string }>('SELECT pg_logical_emit_message(true, $1, $2)::text AS lsn', [prefix, content]);
  return rows[0]!.lsn;
}

export const emitHeartbeat = async (db: ClientBase, slot: string): Promise<void> => void (await emitMessage(db, HEARTBEAT_PREFIX, slot));

/** A snapshot chunk's window is opened by its low and closed by its high watermark (DBLog). */
export interface Watermark {
  slot: string;
  chunk: string;
  mark: 'low' | 'high';
}

export const emitWatermark = async (db: ClientBase, w: Watermark): Promise<void> => void (await emitMessage(db, WATERMARK_PREFIX, JSON.stringify(w)));

export function parseWatermark(content: string): Watermark | undefined {
  try {
    const w = JSON.parse(content) as Partial<Watermark>;
    if (typeof w.slot === 'string' && typeof w.chunk === 'string' && (w.mark === 'low' || w.mark === 'high')) return { slot: w.slot, chunk: w.chunk, mark: w.mark };
  } catch {
    // someone else's message under our prefix: not ours to act on
  }
  return undefined;
}

/**
 * A re-read of some rows of one table through the stream (`npm run dead-letters -- replay`), the
 * watermark snapshot for a handful of keys: the tool emits the low mark, reads the rows, and emits
 * the high mark carrying them (snapshot/refetch-windows.ts publishes them).
 */
export interface Refetch {
  slot: string;
  id: string;
  mark: 'low' | 'high';
  /** The table as snapshot/table-reader.ts describes it (high only). */
  relation?: { schema: string; name: string; keyColumns: string[]; columns: Array<{ name: string; typeOid: number }> };
  /** The key column texts asked for, one record per row (high only). */
  keys?: Array<Record<string, string>>;
  /** The rows found, values as Postgres prints them (high only). */
  rows?: Array<Record<string, string | null>>;
}

export const emitRefetch = (db: ClientBase, r: Refetch): Promise<string> => emitMessage(db, REFETCH_PREFIX, JSON.stringify(r));

export function parseRefetch(content: string): Refetch | undefined {
  try {
    const r = JSON.parse(content) as Partial<Refetch>;
    if (typeof r.slot !== 'string' || typeof r.id !== 'string' || (r.mark !== 'low' && r.mark !== 'high')) return undefined;
    if (r.mark === 'low') return { slot: r.slot, id: r.id, mark: 'low' };
    const rel = r.relation;
    if (!rel || typeof rel.schema !== 'string' || typeof rel.name !== 'string' || !Array.isArray(rel.keyColumns) || !Array.isArray(rel.columns) || !Array.isArray(r.keys) || !Array.isArray(r.rows)) return undefined;
    return { slot: r.slot, id: r.id, mark: 'high', relation: rel, keys: r.keys, rows: r.rows };
  } catch {
    return undefined; // someone else's message under our prefix
  }
}
