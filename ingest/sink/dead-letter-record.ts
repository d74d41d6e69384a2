import { documentId, type KeyValue } from '../../core/change-event';
import type { RejectedEvent } from './kafka-messages';

/**
 * The dead-letter record of an event that never reached its topic: the indexer's shape (id, LSNs,
 * topic, partition -1, no offset, errorType, reason, payload) so one consumer reads both. The row
 * itself is left out (it may be what Kafka could not carry), only its column sizes are kept; the
 * table and key are enough to repair it: `npm run dead-letters -- replay` re-reads the row through
 * the stream (snapshot/refetch-windows.ts). Written for broken events too: an event that failed
 * the contract may lack any field.
 */
export function deadLetterRecord(r: RejectedEvent): { key: string; value: string } {
  const e = r.event as unknown as Record<string, unknown>;
  const { after, ...rest } = e;
  const id = idOf(e.key);
  const payload = safeJson({ ...rest, columnBytes: columnBytes(after) }) ?? JSON.stringify({ unserializable: true });
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const source = e.source as { schema?: unknown; table?: unknown } | undefined;
  const table = typeof source?.schema === 'string' && typeof source.table === 'string' ? `${source.schema}.${source.table}` : '';
  const key = e.key !== null && typeof e.key === 'object' ? e.key : {};
  return { key: id, value: JSON.stringify({ stage: 'ingest', table, key, id, lsn: str(e.lsn), commitLsn: str(e.commitLsn), topic: r.topic, partition: -1, offset: '', errorType: r.errorType, reason: r.reason, payload }) };
}

function idOf(key: unknown): string {
  if (key === null || typeof key !== 'object') return '';
  try {
    return documentId(key as Record<string, KeyValue>);
  } catch {
    return '';
  }
}

function columnBytes(after: unknown): Record<string, number> | undefined {
  if (after === null || typeof after !== 'object') return undefined;
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Buffer.byteLength(safeJson(v) ?? '')]));
}

function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined; // a BigInt or a cycle: the reason already says the event could not be serialized
  }
}
