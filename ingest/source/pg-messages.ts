import type { ClientBase } from 'pg';

/**
 * Logical decoding messages of ours (pg_logical_emit_message). They are transactional, so each
 * gets its own commit LSN and arrives in WAL order with the data changes. Other pipelines on the
 * same database emit theirs under the same prefixes: the content names the slot, and messages
 * for another slot are ignored.
 */
export const HEARTBEAT_PREFIX = 'search_pipeline.heartbeat';
export const WATERMARK_PREFIX = 'search_pipeline.snapshot';

export async function emitMessage(db: ClientBase, prefix: string, content: string): Promise<void> {
  await db.query('SELECT pg_logical_emit_message(true, $1, $2)', [prefix, content]);
}

export const emitHeartbeat = (db: ClientBase, slot: string): Promise<void> => emitMessage(db, HEARTBEAT_PREFIX, slot);

/** A snapshot chunk's window is opened by its low and closed by its high watermark (DBLog). */
export interface Watermark {
  slot: string;
  chunk: string;
  mark: 'low' | 'high';
}

export const emitWatermark = (db: ClientBase, w: Watermark): Promise<void> => emitMessage(db, WATERMARK_PREFIX, JSON.stringify(w));

export function parseWatermark(content: string): Watermark | undefined {
  try {
    const w = JSON.parse(content) as Partial<Watermark>;
    if (typeof w.slot === 'string' && typeof w.chunk === 'string' && (w.mark === 'low' || w.mark === 'high')) return { slot: w.slot, chunk: w.chunk, mark: w.mark };
  } catch {
    // someone else's message under our prefix: not ours to act on
  }
  return undefined;
}
