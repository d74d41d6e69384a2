import type { Client as EsClient } from '@elastic/elasticsearch';
import type { Client as PgClient } from 'pg';
import type { PipelineConfig } from '../../config/pipeline';
import type { DeadLetter } from './record';

export type Outcome =
  /** Written again (parked document) or re-read through the stream and seen in the index. */
  | 'replayed'
  /** The index holds this version or a newer one, or the row was deleted since: nothing to do. */
  | 'superseded'
  /** Elasticsearch still refuses it (the cause is not fixed): it stays parked. */
  | 'failed'
  /** Not attempted: the reason says what is missing. */
  | 'skipped'
  /** Re-read through the stream, but not seen in the index within the wait. */
  | 'unconfirmed';

export interface ReplayResult { ref: string; index?: string; id?: string; table?: string; how: 'parked-document' | 'reread'; outcome: Outcome; detail: string }

export interface ReplayDeps {
  es: EsClient;
  /** Needed to re-read rows (ingest's dead letters, --reread) and to tell a deleted row from a lost document. */
  db?: PgClient;
  pipeline: PipelineConfig;
  slot: string;
  /** How long to wait for a re-read row to reach the index. */
  waitMs: number;
}

export const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

export const ids = (d: DeadLetter) => ({ ref: d.ref, ...(d.index ? { index: d.index } : {}), ...(d.id ? { id: d.id } : {}), ...(d.table ? { table: d.table } : {}) });

/** The key as column → text: ingest's carry the key, the indexer's the document id (the bare value, or the canonical JSON of a composite key). */
export function keyOf(d: DeadLetter, keyColumns?: readonly string[]): Record<string, string> | undefined {
  if (d.key && Object.keys(d.key).length) return Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)]));
  if (d.id === undefined) return undefined;
  if (!keyColumns) return {}; // resolved once the table is described
  if (keyColumns.length === 1) return { [keyColumns[0]!]: d.id };
  try {
    const parsed = JSON.parse(d.id) as Record<string, unknown>;
    return Object.fromEntries(keyColumns.map((c) => [c, String(parsed[c])]));
  } catch {
    return undefined;
  }
}
