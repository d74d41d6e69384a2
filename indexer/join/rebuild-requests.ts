import { sourceTables, type IndexSpec } from '../../config/pipeline';
import type { ChangeEvent, KeyValue } from '../../core/change-event';
import type { Origin } from '../transform/to-bulk-ops';

/**
 * What one change event asks of a joined index: rebuild the document it is the root of, or the
 * documents that hold (or held) a related row, or, for a truncate of a related table, every
 * document that holds one of its rows. Resolved into documents by joined-rebuilder.ts.
 */
export interface RebuildRequest {
  index: string;
  kind: 'root' | 'related' | 'truncate';
  source: { schema: string; table: string };
  key: Record<string, KeyValue>;
  /** Commit LSN of the change: the version of what it rebuilds. */
  version: string;
  /** The change's op: a related row just inserted ('c') is in no document yet, so no document has to be looked up by it. */
  op: ChangeEvent['op'];
  lsn: string;
  origin: Origin;
}

/** The indexes of the config whose documents span tables. */
export function joinedIndexes(indexes: readonly IndexSpec[]): IndexSpec[] {
  return indexes.filter((i) => i.relations?.length);
}

/**
 * Pure: the rebuilds an event asks for. A root table's truncate is not here: it is applied like a
 * single-table truncate (every document at or below its version goes). A related table's
 * snapshot read ('r') asks for nothing: the root's own snapshot read rebuilds the whole document
 * from the database, which holds that row already.
 */
export function rebuildRequests(event: ChangeEvent, origin: Origin, joined: readonly IndexSpec[]): RebuildRequest[] {
  if (event.op === 'h') return [];
  const out: RebuildRequest[] = [];
  for (const index of joined) {
    const isRoot = index.source.schema === event.source.schema && index.source.table === event.source.table;
    const base = { index: index.name, source: event.source, key: event.key, version: event.commitLsn, op: event.op, lsn: event.lsn, origin };
    if (isRoot) {
      if (event.op !== 't') out.push({ ...base, kind: 'root' });
      continue;
    }
    if (!tablesOf(index).has(`${event.source.schema}.${event.source.table}`)) continue;
    if (event.op === 't') out.push({ ...base, kind: 'truncate' });
    else if (event.op !== 'r') out.push({ ...base, kind: 'related' });
  }
  return out;
}

/** The tables of each joined index (configs are frozen): spares a walk per event. */
const tablesCache = new WeakMap<IndexSpec, Set<string>>();
function tablesOf(index: IndexSpec): Set<string> {
  let set = tablesCache.get(index);
  if (!set) tablesCache.set(index, (set = new Set(sourceTables(index).map((t) => `${t.schema}.${t.table}`))));
  return set;
}
