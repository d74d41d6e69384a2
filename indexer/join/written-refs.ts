import type { BulkOp } from '../transform/to-bulk-ops';
import { REFS_FIELD } from './document-query';

/** One bulk write of rebuilt documents: `ref -> ids` of the documents that hold it. */
interface Written { refs: Map<string, string[]>; entries: number; ackedIn?: number }

interface PerIndex {
  written: Set<Written>;
  entries: number;
  /** Rebuild reads in flight: their documents are recorded once read. */
  reads: Set<Promise<void>>;
  /** False until a refresh that began after every forgotten write completed (start, rebalance, overflow). */
  complete: boolean;
  /** Bumped whenever records are forgotten without a refresh: a refresh begun before does not make the record complete. */
  gaps: number;
}

export interface RefreshToken { index: string; epoch: number; gaps: number }

/**
 * What a `_refs` search cannot see yet: the refs of the joined documents this process wrote since
 * the last refresh it knows completed (docs/joined-documents.md, "`_refs` must see the latest
 * writes"). A lookup takes the union of this record and the search; a refresh that began after a
 * write was acknowledged made it searchable, so the write is forgotten once that refresh completes.
 *
 * Bounded: past `maxEntries` (ref, document) pairs the acknowledged writes are forgotten and the
 * record is incomplete until the next refresh, which the lookup then does itself. Writes still in
 * flight are always kept (a batch or a few: the bulk concurrency bounds them).
 */
export class WrittenRefs {
  private readonly byIndex = new Map<string, PerIndex>();
  /** Moves on at each refresh start: a write acknowledged in epoch e is searchable after a refresh begun in a later epoch. */
  private epoch = 0;

  constructor(private readonly maxEntries: number, private readonly skipPrefix: (index: string) => string | undefined = () => undefined) {}

  private of(index: string): PerIndex {
    let s = this.byIndex.get(index);
    if (!s) this.byIndex.set(index, (s = { written: new Set(), entries: 0, reads: new Set(), complete: false, gaps: 0 }));
    return s;
  }

  /**
   * A rebuild is about to read documents of `index`: lookups wait for it (`settled`) until its
   * documents are recorded or it gave up. Call the returned function once `record` was called or the read failed.
   */
  reading(index: string): () => void {
    const s = this.of(index);
    let done!: () => void;
    const p = new Promise<void>((resolve) => (done = resolve));
    s.reads.add(p);
    return () => {
      s.reads.delete(p);
      done();
    };
  }

  /** Waits for the rebuild reads of `index` in flight now (not for those that start later). */
  async settled(index: string): Promise<void> {
    await Promise.all([...this.of(index).reads]);
  }

  /** Records the documents about to be written; call `acknowledged` with the result once the write returned (or failed). */
  record(index: string, ops: ReadonlyArray<Pick<BulkOp, 'action' | 'id'> & { doc?: Record<string, unknown> }>): Written {
    const s = this.of(index);
    const skip = this.skipPrefix(index);
    const w: Written = { refs: new Map(), entries: 0 };
    for (const op of ops) {
      if (op.action !== 'index') continue; // a deleted document holds nothing
      const refs = op.doc?.[REFS_FIELD];
      if (!Array.isArray(refs)) continue;
      for (const ref of refs) {
        if (typeof ref !== 'string' || (skip && ref.startsWith(skip))) continue;
        const ids = w.refs.get(ref);
        if (ids) ids.push(op.id);
        else w.refs.set(ref, [op.id]);
        w.entries++;
      }
    }
    s.written.add(w);
    s.entries += w.entries;
    return w;
  }

  /** The write of `w` returned (acknowledged, or failed: what it may have written is kept the same way). */
  acknowledged(index: string, w: Written): void {
    const s = this.of(index);
    w.ackedIn = this.epoch;
    if (s.entries > this.maxEntries) this.forgetAcknowledged(s);
  }

  /**
   * The ids of documents recorded as holding one of `refs`, and whether the record covers every
   * write since the last refresh (if not, refresh before searching). Synchronous: take it before
   * the search, so nothing it forgets meanwhile is missed (forgotten means refreshed before).
   */
  holding(index: string, refs: readonly string[]): { ids: Set<string>; complete: boolean } {
    const s = this.of(index);
    const ids = new Set<string>();
    for (const w of s.written) {
      for (const ref of refs) for (const id of w.refs.get(ref) ?? []) ids.add(id);
    }
    return { ids, complete: s.complete };
  }

  /** As `holding`, for every ref starting with `prefix` (a truncated table). */
  holdingPrefix(index: string, prefix: string): Set<string> {
    const ids = new Set<string>();
    for (const w of this.of(index).written) {
      for (const [ref, list] of w.refs) if (ref.startsWith(prefix)) for (const id of list) ids.add(id);
    }
    return ids;
  }

  /** Indexes with acknowledged writes a refresh would let go of. */
  pending(): string[] {
    return [...this.byIndex].filter(([, s]) => [...s.written].some((w) => w.ackedIn !== undefined)).map(([i]) => i);
  }

  /** A refresh of `index` is starting: pass the token to `refreshed` once it completed. */
  refreshing(index: string): RefreshToken {
    return { index, epoch: this.epoch++, gaps: this.of(index).gaps };
  }

  /** The refresh completed: every write acknowledged before it began is searchable, so forgotten. */
  refreshed(token: RefreshToken): void {
    const s = this.of(token.index);
    for (const w of s.written) {
      if (w.ackedIn !== undefined && w.ackedIn <= token.epoch) {
        s.written.delete(w);
        s.entries -= w.entries;
      }
    }
    if (s.gaps === token.gaps) s.complete = true;
  }

  /**
   * Other writers may have written since (a rebalance: partitions moved between processes):
   * incomplete until the next refresh. Writes of this process in flight stay recorded.
   */
  reset(): void {
    for (const s of this.byIndex.values()) this.forgetAcknowledged(s);
  }

  private forgetAcknowledged(s: PerIndex): void {
    for (const w of s.written) {
      if (w.ackedIn === undefined) continue;
      s.written.delete(w);
      s.entries -= w.entries;
    }
    s.complete = false;
    s.gaps++;
  }

  /** (ref, document) pairs held for `index`, for tests and logs. */
  size(index: string): number {
    return this.of(index).entries;
  }
}
