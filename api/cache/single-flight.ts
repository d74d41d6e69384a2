/**
 * Concurrent calls with the same key share one execution: the first caller runs `fn`, the others
 * wait for its result (or its error). This is what turns N identical cold requests into one
 * Elasticsearch query. The key is forgotten as soon as the call settles, so a later request runs
 * again (and meets the cache instead).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  get size(): number {
    return this.inFlight.size;
  }

  async run(key: string, fn: () => Promise<T>): Promise<{ value: T; joined: boolean }> {
    const running = this.inFlight.get(key);
    if (running) return { value: await running, joined: true };
    const p = (async () => fn())().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return { value: await p, joined: false };
  }
}
