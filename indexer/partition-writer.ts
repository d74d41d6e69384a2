/**
 * Keeps each partition's batches written one after the other while letting the consumer fetch
 * and prepare the next batch during the write: Elasticsearch no longer idles while Kafka is
 * fetched and events are decoded. A batch's write starts only once the previous batch of its
 * partition is durable and committed, so a document's later change is never written before its
 * earlier one, and a read of the current document (unchanged TOAST fields) sees every earlier write.
 */
export class PartitionWriter {
  /** Per partition: settles when its last handed-over batch is done; true if it succeeded. */
  private readonly tails = new Map<string, Promise<boolean>>();
  private readonly failures = new Map<string, number>();

  /** Resolves when every batch handed over for the partition is done: false if one failed. */
  previous(topic: string, partition: number): Promise<boolean> {
    return this.tails.get(key(topic, partition)) ?? Promise.resolve(true);
  }

  /** Consecutive failed batches of the partition, for backing off before the next attempt. */
  failuresOf(topic: string, partition: number): number {
    return this.failures.get(key(topic, partition)) ?? 0;
  }

  /**
   * Runs `write` after the partition's previous batch, in the background. `onFailure` hears of a
   * failed write; the batches queued behind it are then skipped (their `previous` is false), and
   * the caller reads the partition again from the failed batch.
   */
  start(topic: string, partition: number, write: () => Promise<void>, onFailure: (err: unknown) => void): void {
    const k = key(topic, partition);
    const tail = this.previous(topic, partition).then(async (ok) => {
      if (!ok) return false;
      try {
        await write();
        this.failures.delete(k);
        return true;
      } catch (err) {
        this.failures.set(k, (this.failures.get(k) ?? 0) + 1);
        onFailure(err);
        return false;
      }
    });
    this.tails.set(k, tail);
    // Forget a finished partition unless a newer batch took its place meanwhile.
    void tail.then(() => {
      if (this.tails.get(k) === tail) this.tails.delete(k);
    });
  }

  /** Resolves when nothing is being written any more, including what starts while waiting. */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }

  get busy(): boolean {
    return this.tails.size > 0;
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
