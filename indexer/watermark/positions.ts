/**
 * What this process knows about its partitions: per (topic, partition) the highest commit LSN
 * processed (durable in Elasticsearch or dead-lettered), and which indexes got writes since the
 * last refresh. The watermark task takes both at once, refreshes, then publishes the positions
 * taken before the refresh.
 */
export interface Position { lsn: bigint; commitTs?: string }

export class PositionTracker {
  private readonly positions = new Map<string, Map<number, Position>>();
  private dirty = new Set<string>();

  record(topic: string, partition: number, position: Position): void {
    let byPartition = this.positions.get(topic);
    if (!byPartition) this.positions.set(topic, (byPartition = new Map()));
    const cur = byPartition.get(partition);
    if (!cur || position.lsn >= cur.lsn) byPartition.set(partition, position);
  }

  markWritten(indexes: Iterable<string>): void {
    for (const i of indexes) this.dirty.add(i);
  }

  /** Forgets partitions this process no longer owns after a rebalance. */
  retain(assignment: Readonly<Record<string, readonly number[]>>): void {
    for (const [topic, byPartition] of this.positions) {
      const owned = new Set(assignment[topic] ?? []);
      for (const p of [...byPartition.keys()]) if (!owned.has(p)) byPartition.delete(p);
    }
  }

  /** Positions and the indexes to refresh, taken together; the dirty set starts over. */
  take(): { positions: Map<string, Map<number, Position>>; dirty: Set<string> } {
    const positions = new Map([...this.positions].map(([t, m]) => [t, new Map(m)]));
    const dirty = this.dirty;
    this.dirty = new Set();
    return { positions, dirty };
  }

  /** A refresh failed: those indexes still need one. */
  restoreDirty(indexes: Iterable<string>): void {
    this.markWritten(indexes);
  }
}
